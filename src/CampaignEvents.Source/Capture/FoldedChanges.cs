using CampaignEvents.Contracts;
using CampaignEvents.Source.Mapping;

namespace CampaignEvents.Source.Capture;

/// <summary>
/// What one source transaction (or a snapshot page, a poll, a heartbeat) amounts to, ready to
/// publish, with the rows the mapping rejected, to be reported and not published.
/// </summary>
internal sealed record FoldedChanges(
    ulong EndLsn,
    IReadOnlyList<CampaignChanged> Campaigns,
    IReadOnlyList<ContactChange> Contacts,
    IReadOnlyList<MappedContact> Rejected,
    IReadOnlyList<MappedCampaign> RejectedCampaigns)
{
    /// <summary>Nothing to publish, only a WAL position the slot may advance to once everything before it is confirmed.</summary>
    public static FoldedChanges Marker(ulong lsn) => new(lsn, [], [], [], []);

    /// <summary>Campaigns only (a snapshot's or a poll's), with the rejected ones.</summary>
    public static FoldedChanges OfCampaigns(IReadOnlyList<CampaignChanged> campaigns, IReadOnlyList<MappedCampaign> rejected) =>
        new(0, campaigns, [], [], rejected);

    /// <summary>Contact rows only (a snapshot page, a poll), with the rejected ones.</summary>
    public static FoldedChanges OfContacts(IReadOnlyList<ContactChange> contacts, IReadOnlyList<MappedContact> rejected) =>
        new(0, [], contacts, rejected, []);
}
