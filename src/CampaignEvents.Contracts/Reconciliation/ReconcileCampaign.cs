namespace CampaignEvents.Contracts.Reconciliation;

/// <summary>
/// Command to the reconciliation consumer (queue <c>reconciliation</c>, exchange
/// <c>reconcile-campaign</c>): compare one campaign's local contacts with the source's and answer
/// (and publish) a <see cref="CampaignReconciled"/> report.
/// </summary>
public sealed record ReconcileCampaign
{
    /// <summary>The campaign to reconcile.</summary>
    public required Guid CampaignId { get; init; }

    /// <summary>When true, differing keys are re-published by the source and a follow-up check confirms convergence.</summary>
    public bool Repair { get; init; }

    /// <summary>How long to wait for each answer of the source side; the consumer's setting when absent.</summary>
    public TimeSpan? SourceTimeout { get; init; }
}
