using CampaignEvents.Source.Configuration;
using Dapper;
using Npgsql;
using CampaignEvents.Infrastructure.Versions;

namespace CampaignEvents.Source.Continuity;

/// <summary>What <see cref="VersionRebase.Run"/> did.</summary>
/// <param name="Accepted">True when the new domain was recorded: no local version is left above it.</param>
/// <param name="Above">Campaigns that still hold versions above the new domain's position (only when not accepted).</param>
public sealed record RebaseOutcome(
    VersionDomain Current,
    VersionDomain? Recorded,
    int Campaigns,
    long Contacts,
    long Tombstones,
    bool Accepted,
    IReadOnlyList<Guid> Above);

/// <summary>
/// The recovery of a changed version domain (docs/adr/0004, "Version domain"): the local versions
/// of the chosen campaigns go to -1, the value of rows written outside the pipeline, so the next
/// event of the new domain (versions are &gt;= 0) wins over each of them; their tombstones go,
/// because a tombstone of the old domain would hide a row the new source re-creates. When no local
/// version is left above the new domain's present position, the new domain is recorded and the
/// adapter's snapshot and polling positions are forgotten, so its next start reads a new snapshot.
/// Rows the new source does not hold stay until <c>reconcile --repair</c> deletes them (a snapshot
/// cannot see a row that is not there).
/// </summary>
public static class VersionRebase
{
    const string Rebase = """
        WITH chosen AS (
            SELECT id FROM campaigns WHERE @all OR id = ANY(@ids)
            UNION SELECT unnest(@ids)
        ), rebased_campaigns AS (
            UPDATE campaigns SET version = -1 WHERE id IN (SELECT id FROM chosen) AND version <> -1 RETURNING id
        ), rebased_contacts AS (
            UPDATE contacts SET version = -1 WHERE (@all OR campaign_id = ANY(@ids)) AND version <> -1 RETURNING 1
        ), dropped_tombstones AS (
            DELETE FROM contact_tombstones WHERE @all OR campaign_id = ANY(@ids) RETURNING 1
        )
        SELECT (SELECT count(*) FROM chosen)::int AS campaigns,
               (SELECT count(*) FROM rebased_contacts) AS contacts,
               (SELECT count(*) FROM dropped_tombstones) AS tombstones
        """;

    // what still holds a version the new domain's next event would lose to
    const string Above = """
        SELECT campaign_id FROM contacts WHERE version > @floor
        UNION SELECT campaign_id FROM contact_tombstones WHERE version > @floor
        UNION SELECT id FROM campaigns WHERE version > @floor
        ORDER BY 1 LIMIT 20
        """;

    const string Record = """
        INSERT INTO source_version_domain (capture_mode, system_identifier, timeline, recorded_at)
        VALUES (@mode, @systemIdentifier, @timeline, now())
        ON CONFLICT (singleton) DO UPDATE
        SET capture_mode = excluded.capture_mode, system_identifier = excluded.system_identifier,
            timeline = excluded.timeline, recorded_at = excluded.recorded_at
        """;

    // a snapshot of the old source says nothing about the new one; polling positions of another
    // source or mode are meaningless: the next start reads everything again
    const string Forget = """
        UPDATE source_adapter_state
        SET snapshot_completed_at = NULL, snapshot_lsn = NULL,
            campaigns_position = NULL, campaigns_last_id = NULL, contacts_position = NULL, contacts_last_id = NULL,
            updated_at = now()
        """;

    /// <param name="campaigns">The campaigns to re-base; null for all.</param>
    public static async Task<RebaseOutcome> Run(NpgsqlDataSource local, NpgsqlDataSource source, CaptureMode mode, IReadOnlyCollection<Guid>? campaigns, CancellationToken cancel)
    {
        var current = await VersionDomain.Of(source, mode, cancel);

        // replication: every later event of the new source carries a version above its present WAL
        // position. Polling: the column's next values are unknown, so only -1 is surely below them.
        long floor = -1;
        if (mode == CaptureMode.Replication)
        {
            await using var command = source.CreateCommand("SELECT pg_current_wal_lsn()::text");
            var lsn = (string)(await command.ExecuteScalarAsync(cancel))!;
            floor = SourceVersion.ForSnapshot((ulong)NpgsqlTypes.NpgsqlLogSequenceNumber.Parse(lsn));
        }

        await using var connection = await local.OpenConnectionAsync(cancel);
        await using var transaction = await connection.BeginTransactionAsync(cancel);
        var recorded = await VersionDomainGuard.Recorded(connection, cancel);
        var ids = campaigns?.ToArray() ?? [];
        var counts = await connection.QuerySingleAsync<(int Campaigns, long Contacts, long Tombstones)>(
            new CommandDefinition(Rebase, new { all = campaigns is null, ids }, transaction, cancellationToken: cancel));
        var above = (await connection.QueryAsync<Guid>(new CommandDefinition(Above, new { floor }, transaction, cancellationToken: cancel))).ToList();
        if (above.Count == 0)
        {
            await connection.ExecuteAsync(new CommandDefinition(Record, new { mode = current.ModeName, current.SystemIdentifier, current.Timeline }, transaction, cancellationToken: cancel));
            await connection.ExecuteAsync(new CommandDefinition(Forget, transaction: transaction, cancellationToken: cancel));
        }

        await transaction.CommitAsync(cancel);
        return new RebaseOutcome(current, recorded, counts.Campaigns, counts.Contacts, counts.Tombstones, above.Count == 0, above);
    }
}
