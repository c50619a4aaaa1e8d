using System.Collections;
using Microsoft.Extensions.Configuration;

namespace CampaignEvents.Infrastructure.Configuration;

/// <summary>
/// Settings from files, the way containers hand out secrets (docs/adr/0016), added after the
/// environment variables so a secret file wins over a plain variable:
/// <list type="bullet">
/// <item>a key-per-file folder (Docker and Kubernetes secrets): each file is one setting, its name
/// the setting with <c>__</c> for <c>:</c> (<c>RabbitMq__Password</c>), its content the value; the
/// folder is <c>$CAMPAIGN_EVENTS_SECRETS_DIR</c>, else <c>/run/secrets</c> when it exists;</item>
/// <item><c>Section__Key_FILE</c> variables: <c>RabbitMq__Password_FILE=/run/secrets/rabbitmq-password</c> sets
/// <c>RabbitMq:Password</c> to the file's content, the convention of the official images.</item>
/// </list>
/// A trailing newline is not part of the value. A <c>*_FILE</c> variable naming a file that cannot be
/// read stops the program with one line naming the variable.
/// </summary>
public static class SecretFiles
{
    /// <summary>The environment variable that names the key-per-file folder.</summary>
    public const string DirectoryVariable = "CAMPAIGN_EVENTS_SECRETS_DIR";

    /// <summary>Where Docker and Kubernetes (by convention) mount secrets.</summary>
    public const string DefaultDirectory = "/run/secrets";

    /// <summary>The suffix of a variable that names the file holding a setting's value.</summary>
    public const string FileSuffix = "_FILE";

    public static IConfigurationBuilder AddSecretFiles(this IConfigurationBuilder builder)
    {
        var folder = Environment.GetEnvironmentVariable(DirectoryVariable);
        if (!string.IsNullOrWhiteSpace(folder))
        {
            if (!Directory.Exists(folder))
            {
                throw new SettingsException($"{DirectoryVariable}: the secrets folder '{folder}' does not exist");
            }
        }
        else if (Directory.Exists(DefaultDirectory))
        {
            folder = DefaultDirectory;
        }

        if (folder is not null)
        {
            builder.AddKeyPerFile(Path.GetFullPath(folder), optional: true);
        }

        return builder.AddInMemoryCollection(FromFileVariables(Environment.GetEnvironmentVariables()));
    }

    /// <summary>The settings named by <c>*_FILE</c> variables, read from their files.</summary>
    public static Dictionary<string, string?> FromFileVariables(IDictionary variables)
    {
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (DictionaryEntry variable in variables)
        {
            var name = (string)variable.Key;
            // only Section__Key_FILE: another program's FOO_FILE in the same environment is not ours to read
            if (!name.EndsWith(FileSuffix, StringComparison.Ordinal) || !name.Contains("__", StringComparison.Ordinal) || variable.Value is not string path)
            {
                continue;
            }

            var key = name[..^FileSuffix.Length].Replace("__", ConfigurationPath.KeyDelimiter, StringComparison.Ordinal);
            try
            {
                settings[key] = File.ReadAllText(path).TrimEnd('\r', '\n');
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
            {
                throw new SettingsException($"setting {key}: cannot read the file of {name} ('{path}'): {e.Message}", e);
            }
        }

        return settings;
    }
}
