using Npgsql;

namespace CampaignEvents.Source.SlotHealth;

/// <summary>
/// The adapter's replication slot as the source sees it: whether it exists and streams, its
/// <c>wal_status</c> (reserved, extended, unreserved, lost), how many bytes of WAL it holds back,
/// and the server's <c>flush_lag</c> of the walsender that streams it.
/// </summary>
/// <param name="FlushLagSeconds">pg_stat_replication.flush_lag of the slot's active_pid; null when no adapter streams or it is idle and caught up.</param>
/// <param name="SafeWalSizeBytes">How much more WAL may be written before the slot is invalidated (null without max_slot_wal_keep_size).</param>
public sealed record SlotObservation(
    string Name,
    bool Exists,
    bool Active,
    string? WalStatus,
    long? LagBytes,
    double? FlushLagSeconds,
    string? ConfirmedFlushLsn,
    long? SafeWalSizeBytes,
    string? Plugin,
    string? Database)
{
    const string Sql = """
        SELECT s.active, s.wal_status, s.plugin, s.database,
               pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn)::bigint AS lag_bytes,
               extract(epoch FROM r.flush_lag)::float8 AS flush_lag_seconds,
               s.confirmed_flush_lsn::text, s.safe_wal_size
        FROM pg_replication_slots s
        LEFT JOIN pg_stat_replication r ON r.pid = s.active_pid
        WHERE s.slot_name = $1
        """;

    /// <summary>An invalidated slot: the WAL it needed is gone, it cannot stream again (max_slot_wal_keep_size exceeded).</summary>
    public bool Lost => WalStatus == "lost";

    public static SlotObservation Missing(string name) => new(name, false, false, null, null, null, null, null, null, null);

    public static async Task<SlotObservation> Read(NpgsqlConnection connection, string slot, CancellationToken cancel)
    {
        await using var command = new NpgsqlCommand(Sql, connection);
        command.Parameters.AddWithValue(slot);
        await using var reader = await command.ExecuteReaderAsync(cancel);
        if (!await reader.ReadAsync(cancel))
        {
            return Missing(slot);
        }

        T? Get<T>(int i) where T : struct => reader.IsDBNull(i) ? null : reader.GetFieldValue<T>(i);
        string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
        return new SlotObservation(slot, true, reader.GetBoolean(0), Text(1), Get<long>(4), Get<double>(5), Text(6), Get<long>(7), Text(2), Text(3));
    }

    /// <summary>One phrase for logs, <c>/readyz</c> and <c>status</c>.</summary>
    public string Describe(double? lagSeconds = null)
    {
        if (!Exists)
        {
            return $"replication slot {Name} does not exist";
        }

        var seconds = lagSeconds ?? FlushLagSeconds;
        var time = seconds is { } s ? $", {s:0.0} s behind" : "";
        return $"replication slot {Name} {(Active ? "streaming" : "not streaming")}, wal_status {WalStatus ?? "?"}, {LagBytes ?? 0:N0} bytes of WAL behind{time}";
    }
}
