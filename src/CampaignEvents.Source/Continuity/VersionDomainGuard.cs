using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Source.Configuration;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CampaignEvents.Source.Continuity;

/// <summary>
/// Refuses to capture into local versions of another domain (migration 005, docs/adr/0004): at
/// every capture session the source's domain is compared with the recorded one; the first session
/// records it. A change stops the adapter with one line that names the recovery command.
/// </summary>
internal sealed class VersionDomainGuard(
    [FromKeyedServices(DatabaseSettings.Source)] NpgsqlDataSource source,
    [FromKeyedServices(DatabaseSettings.Contacts)] NpgsqlDataSource local)
{
    const string SelectRecorded = """
        SELECT capture_mode, system_identifier, timeline FROM source_version_domain
        """;

    // the first session of a local database (or one migrated from before 005) records what it sees;
    // two adapters starting together agree on one row
    const string RecordFirst = """
        INSERT INTO source_version_domain (capture_mode, system_identifier, timeline)
        VALUES (@mode, @systemIdentifier, @timeline)
        ON CONFLICT (singleton) DO NOTHING
        """;

    /// <summary>Records the source's domain when none is; throws <see cref="SettingsException"/> when it differs from the recorded one.</summary>
    public async Task Check(CaptureMode mode, CancellationToken cancel)
    {
        var current = await VersionDomain.Of(source, mode, cancel);
        await using var connection = await local.OpenConnectionAsync(cancel);
        try
        {
            await connection.ExecuteAsync(new CommandDefinition(RecordFirst, new { mode = current.ModeName, current.SystemIdentifier, current.Timeline }, cancellationToken: cancel));
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            throw new SettingsException("the local database of ConnectionStrings:Contacts lacks migration 005 (source_version_domain): run campaign-events migrate", e);
        }

        var recorded = await Recorded(connection, cancel);
        if (recorded is not null && recorded != current)
        {
            throw new SettingsException(Refusal(recorded, current));
        }
    }

    /// <summary>The domain recorded in the local database, if any.</summary>
    public static async Task<VersionDomain?> Recorded(NpgsqlConnection local, CancellationToken cancel)
    {
        var row = await local.QuerySingleOrDefaultAsync<(string Mode, long SystemIdentifier, int Timeline)?>(new CommandDefinition(SelectRecorded, cancellationToken: cancel));
        return row is { } r ? new VersionDomain(VersionDomain.ParseMode(r.Mode), r.SystemIdentifier, r.Timeline) : null;
    }

    /// <summary>The one line an operator reads when the domain changed.</summary>
    public static string Refusal(VersionDomain recorded, VersionDomain current)
    {
        var what = recorded.Mode != current.Mode
            ? $"the local versions come from {recorded.ModeName} capture but Source__Mode is now {current.ModeName}; the two number changes on different scales"
            : recorded.SystemIdentifier != current.SystemIdentifier
                ? $"the source database is another cluster than the one the local versions come from (system identifier {current.SystemIdentifier}, recorded {recorded.SystemIdentifier}: restored from a backup, or replaced?)"
                : $"the source database moved to timeline {current.Timeline} (recorded {recorded.Timeline}: promoted or restored to a point in time?), its WAL positions may be lower than the stored versions";
        return $"version domain changed: {what}; its changes would lose to the stored rows. Let the sync consumer drain the queues, then run campaign-events rebase-versions --all (README: Version domain) and start again";
    }
}
