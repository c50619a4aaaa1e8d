namespace CampaignEvents.Contracts.Reconciliation;

/// <summary>
/// Command to the reconciliation consumer (queue <c>reconciliation</c>, bound to the exchange
/// <c>reconcile-campaign</c>): compare one campaign's local contacts with the source's, repair the
/// drift if asked, and publish a <see cref="CampaignReconciled"/> report (also the answer when the
/// command was sent as a request). <c>campaign-events reconcile</c> and the scheduled rounds send it.
/// </summary>
public sealed record ReconcileCampaign
{
    /// <summary>The campaign to reconcile. A campaign neither side holds gives an <c>error</c> report, not a consistent one.</summary>
    public required Guid CampaignId { get; init; }

    /// <summary>
    /// When true, differing keys are re-published by the source (<see cref="RepairSourceContacts"/>)
    /// and a follow-up comparison reports whether the campaign converged; when false (the default)
    /// drift is only reported, nothing changes.
    /// </summary>
    public bool Repair { get; init; }

    /// <summary>
    /// How long to wait for each answer of the source side (JSON: a <c>TimeSpan</c> text such as
    /// <c>"00:00:30"</c>); null uses the consumer's <c>Reconciliation:SourceTimeout</c>. A source
    /// side silent for that long gives an <c>error</c> report.
    /// </summary>
    public TimeSpan? SourceTimeout { get; init; }
}
