using System.Net.Sockets;
using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Infrastructure.Database;
using Microsoft.Extensions.Options;
using Npgsql;

namespace CampaignEvents.Cli.Commands;

/// <summary>
/// Turns the failures an operator can fix (a setting, an unreachable server) into one line on
/// standard error and exit code 1. Anything else is a bug and keeps its stack trace.
/// </summary>
internal static class Failures
{
    public const int Error = 1;

    public static async Task<int> Guard(Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (Exception e) when (Explain(e) is { } line)
        {
            await Console.Error.WriteLineAsync($"error: {line}");
            return Error;
        }
    }

    public static string? Explain(Exception e) => e switch
    {
        SettingsException s => s.Message,
        MigrationException m => $"migration {m.Message}",
        OptionsValidationException o => $"setting {Hosting.SettingsCatalog.SectionOf(o.OptionsType)}: {string.Join("; ", o.Failures)}",
        OperationCanceledException => "cancelled",
        // a fresh local database nobody migrated, or a source table setting that names no table
        PostgresException { SqlState: PostgresErrorCodes.UndefinedTable } pg =>
            $"{pg.MessageText} ({pg.SqlState}): run campaign-events migrate for the local database of ConnectionStrings:Contacts, or check Source:CampaignsTable and Source:ContactsTable",
        // the metrics port was free when the settings were read and taken before the listener bound it
        InvalidOperationException { InnerException: System.Net.HttpListenerException h } when e.Message.Contains("Prometheus", StringComparison.Ordinal) =>
            $"setting Observability:MetricsPort: the metrics endpoint cannot listen ({h.Message}); set Observability__MetricsPort to a free port, or 0",
        // a value the configuration binder could not convert, whoever bound it (Settings.Valid says the same)
        _ => Settings.Explain(e),
    };

    /// <summary>Describes a database failure against the setting that named the database.</summary>
    public static SettingsException Database(string setting, NpgsqlConnectionStringBuilder target, Exception e)
    {
        var reason = DatabaseSettings.TlsFailure(target, e) ?? e switch
        {
            PostgresException pg => $"{pg.MessageText} ({pg.SqlState})",
            NpgsqlException { InnerException: SocketException s } => $"nothing answers there ({s.SocketErrorCode}); is PostgreSQL running? (bash infra/up.sh)",
            NpgsqlException { InnerException: TimeoutException } => "no answer before the timeout",
            _ => e.Message,
        };
        return new SettingsException($"cannot use the database of setting ConnectionStrings:{setting} ({DatabaseSettings.Describe(target)}): {reason}", e);
    }
}
