using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace CampaignEvents.Infrastructure.Configuration;

/// <summary>
/// The one way every command (and the benchmark tool) reads its settings: the same sources in the
/// same order as the hosts of <c>run</c>, and the same validation, so a wrong setting gives the same
/// one line whichever command meets it (<see cref="SettingsException"/>, naming the setting).
/// <list type="number">
/// <item><c>appsettings.json</c> beside the program;</item>
/// <item><c>appsettings.{Environment}.json</c> beside it, the environment from <c>DOTNET_ENVIRONMENT</c> (<c>Production</c> by default);</item>
/// <item>environment variables (<c>RabbitMq__Host</c>);</item>
/// <item>secret files (<see cref="SecretFiles"/>);</item>
/// <item>what the caller passes (tests, the demo, the benchmarks).</item>
/// </list>
/// </summary>
public static partial class Settings
{
    /// <summary>The variable that names the environment, as for every .NET generic host.</summary>
    public const string EnvironmentVariable = "DOTNET_ENVIRONMENT";

    /// <summary>The environment whose <c>appsettings.{Environment}.json</c> is read.</summary>
    public static string EnvironmentName() =>
        Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } name ? name : "Production";

    /// <summary>Adds the program's configuration sources, in order (see <see cref="Settings"/>).</summary>
    public static IConfigurationBuilder AddProgramSettings(this IConfigurationBuilder builder, IEnumerable<KeyValuePair<string, string?>>? overrides = null) =>
        builder
            .SetBasePath(AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true)
            .AddJsonFile($"appsettings.{EnvironmentName()}.json", optional: true)
            .AddEnvironmentVariables()
            .AddSecretFiles()
            .AddInMemoryCollection(overrides ?? []);

    /// <summary>The program's settings (see <see cref="Settings"/>).</summary>
    public static IConfigurationRoot Load(IEnumerable<KeyValuePair<string, string?>>? overrides = null) =>
        new ConfigurationBuilder().AddProgramSettings(overrides).Build();

    /// <summary>Section <c>RabbitMq</c>, bound and validated.</summary>
    public static RabbitMqOptions RabbitMq(this IConfiguration configuration) =>
        configuration.Valid<RabbitMqOptions>(RabbitMqOptions.Section);

    /// <summary>
    /// Binds a section and validates it as the hosts do (data annotations, <see cref="IValidatableObject"/>
    /// and the section's own <paramref name="rules"/>); throws <see cref="SettingsException"/> naming the
    /// first wrong setting otherwise.
    /// </summary>
    public static T Valid<T>(this IConfiguration configuration, string section, params IValidateOptions<T>[] rules)
        where T : class, new()
    {
        var options = new T();
        try
        {
            configuration.GetSection(section).Bind(options);
        }
        catch (InvalidOperationException e) when (Explain(e) is { } line)
        {
            throw new SettingsException(line, e);
        }

        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true))
        {
            throw new SettingsException(string.Join("; ", results.Select(r => Describe(section, r))));
        }

        foreach (var rule in rules)
        {
            if (rule.Validate(Options.DefaultName, options) is { Failed: true } failed)
            {
                throw new SettingsException($"setting {string.Join("; ", failed.Failures ?? [failed.FailureMessage])}");
            }
        }

        return options;
    }

    /// <summary>
    /// The one line for a value the configuration binder could not convert (<c>RabbitMq__Port=abc</c>),
    /// whoever bound it; null for any other exception. The value itself is left out: it could be a secret.
    /// </summary>
    public static string? Explain(Exception e) =>
        e is InvalidOperationException && ConversionFailure().Match(e.Message) is { Success: true } m
            ? $"setting {m.Groups["path"].Value} is not a valid {Friendly(m.Groups["type"].Value)}"
            : null;

    static string Describe(string section, ValidationResult result)
    {
        var member = result.MemberNames.FirstOrDefault();
        var setting = member is null ? section : $"{section}:{member}";
        var message = result.ErrorMessage ?? "is not valid";
        // IValidatableObject and custom messages name the setting themselves ("RabbitMq:Hosts has a bad entry …")
        if (message.StartsWith(setting, StringComparison.OrdinalIgnoreCase))
        {
            return $"setting {message}";
        }

        if (member is not null)
        {
            message = message
                .Replace($"The field {member} ", "", StringComparison.Ordinal)
                .Replace($"The {member} field is required.", $"is missing: set the environment variable {section}__{member}, or {section}__{member}_FILE to a file holding it", StringComparison.Ordinal);
        }

        return $"setting {setting} {message.TrimEnd('.')}";
    }

    static string Friendly(string type) => type switch
    {
        "System.Int32" or "System.Int64" => "whole number",
        "System.Boolean" => "boolean (true or false)",
        "System.TimeSpan" => "time span (hh:mm:ss)",
        "System.Double" or "System.Decimal" => "number",
        _ => type.Split('.')[^1],
    };

    [GeneratedRegex("at '(?<path>[^']+)' to type '(?<type>[^']+)'")]
    private static partial Regex ConversionFailure();
}
