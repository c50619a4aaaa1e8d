namespace CampaignEvents.Contracts.Reconciliation;

/// <summary>
/// Request from a reconciliation round over every campaign (scheduled, or <c>campaign-events
/// reconcile --all</c>) to the source side (sent to the queue
/// <c>reconciliation-source-campaigns</c>): the ids of the campaigns the source holds, so the round
/// also reconciles campaigns the local side has never seen. Answered by <see cref="SourceCampaignsListed"/>.
/// </summary>
public sealed record ListSourceCampaigns
{
    /// <summary>
    /// A fresh id per request, for tracing in logs; the source side does not read it. It exists so
    /// the request's JSON is not an empty object.
    /// </summary>
    public Guid RequestedBy { get; init; }
}
