namespace CampaignEvents.Cli.Commands.Status;

/// <summary>What <c>campaign-events status</c> reports; also its <c>--json</c> shape.</summary>
sealed record StatusReport
{
    public required string LocalDatabase { get; init; }

    public string? LocalError { get; init; }

    public IReadOnlyList<CampaignStatus> Campaigns { get; init; } = [];

    public SlotStatus? Slot { get; init; }

    public string? SourceError { get; init; }

    public required string Broker { get; init; }

    public string? BrokerError { get; init; }

    public IReadOnlyList<QueueStatus> Queues { get; init; } = [];

    /// <summary>True when every part answered.</summary>
    public bool Reachable => LocalError is null && SourceError is null && BrokerError is null;
}

sealed record CampaignStatus(
    Guid Id,
    string Name,
    long LocalRows,
    long Tombstones,
    long? LastVersion,
    DateTime? LastAppliedAt,
    string? LastReconciliation,
    DateTime? LastReconciledAt);

/// <param name="WalStatus">pg_replication_slots.wal_status: reserved, extended, unreserved or lost (invalidated).</param>
/// <param name="FlushLagSeconds">pg_stat_replication.flush_lag of the adapter streaming the slot (the server's measure); null when none streams or it is caught up and idle.</param>
/// <param name="SafeWalSizeBytes">WAL that may still be written before the slot is invalidated; null without max_slot_wal_keep_size.</param>
sealed record SlotStatus(string Name, bool Exists, bool Active, long? LagBytes, string? ConfirmedFlushLsn, string? WalStatus = null, double? FlushLagSeconds = null, long? SafeWalSizeBytes = null);

sealed record QueueStatus(string Name, bool Exists, long Ready, long Unacknowledged, int Consumers);
