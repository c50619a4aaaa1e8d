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

    /// <summary>The processes connected to the vhost and the broker node each is connected to.</summary>
    public IReadOnlyList<ConnectionStatus> Connections { get; init; } = [];

    /// <summary>The cluster's nodes and whether each is running (one node without a cluster).</summary>
    public IReadOnlyList<NodeStatus> Nodes { get; init; } = [];

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

/// <param name="Leader">The node leading a quorum queue (null for a queue of another type).</param>
/// <param name="Members">The nodes holding a replica of a quorum queue; <paramref name="Online"/> those of them up.</param>
sealed record QueueStatus(string Name, bool Exists, long Ready, long Unacknowledged, int Consumers, string? Leader = null, IReadOnlyList<string>? Members = null, IReadOnlyList<string>? Online = null);

/// <param name="Name">The name the process gave its connection (<c>campaign-events sync pid 1234</c>), else the broker's.</param>
/// <param name="Node">The broker node it is connected to.</param>
sealed record ConnectionStatus(string Name, string Node, string? Peer);

sealed record NodeStatus(string Name, bool Running);
