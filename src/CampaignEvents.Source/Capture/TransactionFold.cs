using CampaignEvents.Contracts;
using CampaignEvents.Source.Mapping;
using CampaignEvents.Infrastructure.Versions;

namespace CampaignEvents.Source.Capture;

/// <summary>
/// Folds the changes of one committed transaction into events (docs/adr/0004): versions are
/// <see cref="SourceVersion.ForChange"/> of the commit LSN and the change's 1-based position; only
/// the last change per key survives; an update that moves a contact to another key is a delete
/// of the old key plus a change of the new one; a row that does not map is rejected, not published.
/// </summary>
internal sealed class TransactionFold(ulong commitLsn, DateTimeOffset committedAt)
{
    readonly Dictionary<Guid, CampaignChanged> campaigns = [];
    readonly Dictionary<(Guid CampaignId, string PhoneNumber), ContactChange> contacts = [];
    readonly List<MappedContact> rejected = [];
    readonly List<MappedCampaign> rejectedCampaigns = [];

    /// <summary>An inserted or updated campaign row; one that does not map is rejected.</summary>
    public void Campaign(long position, MappedCampaign campaign)
    {
        if (campaign.Rejected)
        {
            // one bad row must not stop capture: reported, and the stream goes on (docs/adr/0004)
            rejectedCampaigns.Add(campaign);
            return;
        }

        campaigns[campaign.Id] = SourceEvents.Campaign(campaign, SourceVersion.ForChange(commitLsn, position), committedAt);
    }

    /// <summary>An insert (no old key) or an update (old key from the replica identity) of a contact row.</summary>
    public void Upsert(long position, MappedContact row, (Guid CampaignId, string PhoneNumber)? oldKey)
    {
        if (oldKey is { } old && (row.Rejected || old != (row.CampaignId, row.PhoneNumber!)))
        {
            Delete(position, old);
        }

        if (row.Rejected)
        {
            rejected.Add(row);
            return;
        }

        var change = SourceEvents.Contact(row, SourceVersion.ForChange(commitLsn, position), committedAt);
        contacts[change.Key] = change;
    }

    /// <summary>A delete; a key that never mapped (rejected row) was never published, so there is nothing to delete.</summary>
    public void Delete(long position, (Guid CampaignId, string PhoneNumber)? key)
    {
        if (key is { } k)
        {
            contacts[k] = SourceEvents.Deleted(k, SourceVersion.ForChange(commitLsn, position), committedAt);
        }
    }

    public FoldedChanges Complete(ulong endLsn) => new(endLsn, [.. campaigns.Values], [.. contacts.Values], [.. rejected], [.. rejectedCampaigns]);
}
