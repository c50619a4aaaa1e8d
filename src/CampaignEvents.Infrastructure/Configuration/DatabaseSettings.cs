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

    /// <summary>
    /// Section of the databases' passwords kept apart from the connection strings (so they can come
    /// from a secret file): <c>DatabasePasswords:Contacts</c>, <c>DatabasePasswords:Source</c>.
    /// </summary>
    public const string PasswordsSection = "DatabasePasswords";

    /// <summary>Reads and parses a connection string, or explains which setting is wrong; adds the password of <see cref="PasswordsSection"/> when one is set.</summary>
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

        if (configuration[$"{PasswordsSection}:{name}"] is { Length: > 0 } password)
        {
            builder.Password = password;
        }

        return builder;
    }

    /// <summary>The connection string with its password removed, safe to print.</summary>
    public static string Describe(NpgsqlConnectionStringBuilder builder) =>
        $"Host={builder.Host};Port={builder.Port};Database={builder.Database};Username={builder.Username}"
        + (builder.SslMode is SslMode.Disable or SslMode.Prefer ? "" : $";SSL Mode={builder.SslMode}");

    /// <summary>
    /// Why a TLS connection to PostgreSQL failed, in words that name the connection string's keys to
    /// fix; null when the failure is not about TLS.
    /// </summary>
    public static string? TlsFailure(NpgsqlConnectionStringBuilder builder, Exception e)
    {
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is System.Security.Authentication.AuthenticationException refused)
            {
                var trust = string.IsNullOrWhiteSpace(builder.RootCertificate) ? "this machine's CAs (set Root Certificate=<CA PEM file>)" : $"the CA of Root Certificate={builder.RootCertificate}";
                return $"the server's TLS certificate was refused ({refused.Message}): with SSL Mode={builder.SslMode} it must be signed by {trust}"
                    + (builder.SslMode == SslMode.VerifyFull ? $" and name the Host {builder.Host}" : "");
            }
        }

        return e.Message.Contains("SSL", StringComparison.OrdinalIgnoreCase) && e is not PostgresException
            ? $"{e.Message} (SSL Mode={builder.SslMode})"
            : null;
    }
}
