using CampaignEvents.Contracts.Reconciliation;
using CampaignEvents.Infrastructure.Messaging;
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
        Response<SourceCampaignsListed> answer;
        try
        {
            answer = await source.Ask<ListSourceCampaigns, SourceCampaignsListed>(new ListSourceCampaigns { RequestedBy = NewId.NextGuid() }, timeout, cancel);
        }
        catch (RequestTimeoutException e)
        {
            throw new ReconciliationException($"the source side did not answer within {timeout.TotalSeconds:0.#} s (is `campaign-events run` with role source running on this broker?)", e);
        }

        if (answer.Message.Error is { } error)
        {
            throw new ReconciliationException($"the source side failed: {error}");
        }

        return [.. localIds.Union(answer.Message.CampaignIds).Order()];
    }
}
