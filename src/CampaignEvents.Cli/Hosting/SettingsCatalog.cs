using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Infrastructure.Observability;
using CampaignEvents.Reconciliation;
using CampaignEvents.Source.Configuration;
using CampaignEvents.Sync.Configuration;

namespace CampaignEvents.Cli.Hosting;

/// <summary>Every configuration section the program reads, with the options type that binds it.</summary>
internal static class SettingsCatalog
{
    public static readonly IReadOnlyDictionary<string, Type> Sections = new Dictionary<string, Type>(StringComparer.OrdinalIgnoreCase)
    {
        [RabbitMqOptions.Section] = typeof(RabbitMqOptions),
        [SourceOptions.Section] = typeof(SourceOptions),
        [ObservabilityOptions.Section] = typeof(ObservabilityOptions),
        [SyncOptions.Section] = typeof(SyncOptions),
        [ReconciliationOptions.Section] = typeof(ReconciliationOptions),
    };

    /// <summary>The section an options type binds, for messages; the type's name when it is none of ours.</summary>
    public static string SectionOf(Type options) =>
        Sections.FirstOrDefault(s => s.Value == options).Key ?? options.Name;

    public static readonly IReadOnlyList<string> ConnectionStrings =
        [DatabaseSettings.Contacts, DatabaseSettings.Source, Commands.Demo.DemoCommand.ContactsOwner, Commands.Demo.DemoCommand.SourceOwner];

    /// <summary>
    /// True when an environment variable name (Section__Property, Section__Group__Property, or either
    /// with <c>_FILE</c> naming a secret file, <see cref="SecretFiles"/>) is a setting the program reads.
    /// </summary>
    public static bool IsKnown(string variable)
    {
        if (variable.EndsWith(SecretFiles.FileSuffix, StringComparison.Ordinal))
        {
            variable = variable[..^SecretFiles.FileSuffix.Length];
        }

        var parts = variable.Split("__");
        if (parts.Length < 2)
        {
            return false;
        }

        if (string.Equals(parts[0], "ConnectionStrings", StringComparison.OrdinalIgnoreCase)
            || string.Equals(parts[0], DatabaseSettings.PasswordsSection, StringComparison.OrdinalIgnoreCase))
        {
            return parts.Length == 2 && ConnectionStrings.Contains(parts[1], StringComparer.OrdinalIgnoreCase);
        }

        if (!Sections.TryGetValue(parts[0], out var type))
        {
            return false;
        }

        foreach (var part in parts[1..])
        {
            type = type?.GetProperty(part, System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.IgnoreCase)?.PropertyType;
        }

        return type is not null;
    }
}
