using Microsoft.Extensions.Configuration;
using Npgsql;

namespace CampaignEvents.Infrastructure.Configuration;

/// <summary>The two databases the pipeline talks to, by connection string name.</summary>
public static class DatabaseSettings
{
    /// <summary>The local database the sync consumer writes (ConnectionStrings:Contacts).</summary>
    public const string Contacts = "Contacts";

    /// <summary>The external database the source adapter reads (ConnectionStrings:Source).</summary>
    public const string Source = "Source";

    /// <summary>Reads and parses a connection string, or explains which setting is wrong.</summary>
    public static NpgsqlConnectionStringBuilder Require(IConfiguration configuration, string name)
    {
        var value = configuration.GetConnectionString(name);
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new SettingsException(
                $"setting ConnectionStrings:{name} is missing: set it in appsettings.json or as the environment variable ConnectionStrings__{name} (source infra/env.sh for the local stack)");
        }

        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(value);
        }
        catch (ArgumentException e)
        {
            throw new SettingsException($"setting ConnectionStrings:{name} is not a valid PostgreSQL connection string: {e.Message}", e);
        }

        if (string.IsNullOrWhiteSpace(builder.Host))
        {
            throw new SettingsException($"setting ConnectionStrings:{name} names no Host");
        }

        return builder;
    }

    /// <summary>The connection string with its password removed, safe to print.</summary>
    public static string Describe(NpgsqlConnectionStringBuilder builder) =>
        $"Host={builder.Host};Port={builder.Port};Database={builder.Database};Username={builder.Username}";
}
