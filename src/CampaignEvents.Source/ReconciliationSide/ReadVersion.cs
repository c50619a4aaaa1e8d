using CampaignEvents.Source.Configuration;
using CampaignEvents.Source.Mapping;
using CampaignEvents.Source.Polling;
using Dapper;
using Npgsql;
using CampaignEvents.Infrastructure.Versions;

namespace CampaignEvents.Source.ReconciliationSide;

/// <summary>Where a read of the source stands: its WAL position (for reports) and its version in the capture mode's domain.</summary>
/// <param name="Lsn">The WAL position taken just before the read's snapshot (the replayed one on a standby).</param>
/// <param name="Version">
/// Every change the snapshot misses is published with a version strictly above this one, in the
/// domain of the configured capture mode; the repair publishes at it, and reconciliation takes a
/// local version at or above it for a change in flight (docs/adr/0006).
/// </param>
internal sealed record SourceRead(long Lsn, long Version);

/// <summary>
/// The version of a read of the source, in the domain the capture publishes (docs/adr/0005, 0006):
/// <list type="bullet">
/// <item>replication: <see cref="SourceVersion.ForSnapshot"/> of the WAL position taken before the
/// snapshot (a change the snapshot misses commits after it);</item>
/// <item>polling on a timestamp column: the source's clock before the snapshot minus
/// <c>Source:PollingLag</c>, in microseconds since the epoch like the polled versions. A change the
/// snapshot misses commits after that instant and, by the lag's assumption (a transaction commits
/// less than the lag after stamping its rows, the same one polling itself relies on), was stamped
/// after the instant minus the lag;</item>
/// <item>polling on an integer version column, whose rows are published at 2 × value + 1
/// (<see cref="PollingCapture.IntegerVersion"/>): 2 × the column's largest value before the
/// snapshot + 2, above every row the read saw (so a repaired row wins over the newest one) and below
/// the next value the column takes (a change the snapshot misses takes a larger value, by the
/// column's assumption of increasing values).</item>
/// </list>
/// Comparing polled versions with a WAL-based read version made every differing polled key look
/// newer than the source read, so it was never reported (issue: polling reconciliation).
/// </summary>
internal sealed class ReadVersion(SourceMapping mapping)
{
    const string ReplicationSql = "SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint, 0::bigint";

    // polling is the mode for read replicas, which have no insert position: the replayed one there
    const string PollingLsn = "(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END - '0/0'::pg_lsn)::bigint";

    const string ColumnType = """
        SELECT format_type(a.atttypid, a.atttypmod)
        FROM pg_attribute a
        WHERE a.attrelid = @table::regclass AND a.attname = @column AND NOT a.attisdropped
        """;

    readonly SourceOptions options = mapping.Options;
    string? pollingSql;

    /// <summary>Reads the position and version on <paramref name="connection"/>, before the caller opens its snapshot.</summary>
    public async Task<SourceRead> BeforeSnapshot(NpgsqlConnection connection, CancellationToken cancel)
    {
        if (options.Mode == CaptureMode.Replication)
        {
            var (lsn, _) = await connection.QuerySingleAsync<(long, long)>(new CommandDefinition(ReplicationSql, cancellationToken: cancel));
            return new SourceRead(lsn, SourceVersion.ForSnapshot((ulong)lsn));
        }

        pollingSql ??= await PollingSql(connection, cancel);
        var (position, version) = await connection.QuerySingleAsync<(long, long)>(new CommandDefinition(
            pollingSql,
            new { lag = options.PollingLag.ToString("c", System.Globalization.CultureInfo.InvariantCulture) },
            cancellationToken: cancel));
        return new SourceRead(position, version);
    }

    // the same version expressions as the polling capture's (PollingCapture.Query); Dapper sends @lag only where the text uses it
    async Task<string> PollingSql(NpgsqlConnection connection, CancellationToken cancel)
    {
        var type = await connection.ExecuteScalarAsync<string>(new CommandDefinition(ColumnType, new { table = mapping.Contacts.Sql, column = options.PollingColumn }, cancellationToken: cancel))
            ?? throw new InvalidOperationException($"source table {mapping.Contacts} has no column {options.PollingColumn} (setting Source__PollingColumn)");
        if (type.StartsWith("timestamp", StringComparison.Ordinal))
        {
            return $"SELECT {PollingLsn}, {PollingCapture.TimestampVersion("(clock_timestamp() - @lag::interval)")}";
        }

        var column = SourceMapping.Quote(options.PollingColumn);
        return $"SELECT {PollingLsn}, coalesce((SELECT {PollingCapture.IntegerVersion($"max({column})")} FROM {mapping.Contacts.Sql}) + 1, 0)";
    }
}
