namespace CampaignEvents.Contracts.Reconciliation;

/// <summary>
/// Response to <see cref="ListSourceCampaigns"/>, sent to the requester's response address. No
/// <c>required</c> property; a failure is reported in <see cref="Error"/>.
/// </summary>
public sealed record SourceCampaignsListed
{
    /// <summary>The ids of every campaign row of the source's campaigns table, ascending; empty when it holds none (or with <see cref="Error"/>).</summary>
    public IReadOnlyList<Guid> CampaignIds { get; init; } = [];

    /// <summary>Null on success; otherwise why the source side could not answer.</summary>
    public string? Error { get; init; }
}
