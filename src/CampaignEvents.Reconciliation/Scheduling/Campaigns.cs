using CampaignEvents.Contracts.Reconciliation;
using CampaignEvents.Reconciliation.LocalSide;
using CampaignEvents.Reconciliation.Reconciling;
using MassTransit;

namespace CampaignEvents.Reconciliation.Scheduling;

/// <summary>Every campaign either side holds: the local ones and the source's (asked over the broker).</summary>
public sealed class Campaigns(LocalContacts local, IRequestClient<ListSourceCampaigns> source)
{
    public async Task<IReadOnlyList<Guid>> All(TimeSpan timeout, CancellationToken cancel)
    {
        var localIds = await local.CampaignIds(cancel);
        var answer = await SourceSideRequests.Ask<ListSourceCampaigns, SourceCampaignsListed>(
            source, new ListSourceCampaigns { RequestedBy = NewId.NextGuid() }, timeout, r => r.Error, cancel);
        return [.. localIds.Union(answer.CampaignIds).Order()];
    }
}
