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

sealed record SlotStatus(string Name, bool Exists, bool Active, long? LagBytes, string? ConfirmedFlushLsn);

sealed record QueueStatus(string Name, bool Exists, long Ready, long Unacknowledged, int Consumers);
