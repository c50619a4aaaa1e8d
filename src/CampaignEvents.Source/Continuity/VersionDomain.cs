using CampaignEvents.Source.Configuration;
using Npgsql;

namespace CampaignEvents.Source.Continuity;

/// <summary>
/// Where local versions come from (docs/adr/0004, "Version domain"): the capture mode and the
/// source cluster's history, its system identifier (fixed by initdb, kept by physical copies) and
/// timeline (raised by every promotion or point-in-time recovery). Versions of two domains do not
/// compare: a restored, promoted or replaced source writes lower WAL positions than the ones stored.
/// </summary>
public sealed record VersionDomain(CaptureMode Mode, long SystemIdentifier, int Timeline)
{
    // the timeline of the WAL being written (the file name starts with it): pg_control_checkpoint()
    // shows the new one only after the end-of-recovery checkpoint, which may take minutes; a
    // standby (polling a replica) has no insert position, so there the replayed checkpoint's
    const string IdentitySql = """
        SELECT (SELECT system_identifier FROM pg_control_system()) AS system_identifier,
               CASE WHEN pg_is_in_recovery() THEN (SELECT timeline_id FROM pg_control_checkpoint())
                    ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int
               END AS timeline
        """;

    /// <summary>The domain the source behind <paramref name="source"/> writes now, for the given mode.</summary>
    public static async Task<VersionDomain> Of(NpgsqlDataSource source, CaptureMode mode, CancellationToken cancel)
    {
        await using var command = source.CreateCommand(IdentitySql);
        await using var reader = await command.ExecuteReaderAsync(cancel);
        await reader.ReadAsync(cancel);
        return new VersionDomain(mode, reader.GetInt64(0), reader.GetInt32(1));
    }

    public string ModeName => Mode == CaptureMode.Polling ? "polling" : "replication";

    public override string ToString() => $"{ModeName} of system {SystemIdentifier} timeline {Timeline}";

    public static CaptureMode ParseMode(string mode) => mode == "polling" ? CaptureMode.Polling : CaptureMode.Replication;
}
