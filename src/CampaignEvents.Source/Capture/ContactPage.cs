using CampaignEvents.Source.Mapping;

namespace CampaignEvents.Source.Capture;

/// <summary>The contact rows one SQL read (a snapshot page, a poll) mapped: their changes, and the rejected rows apart.</summary>
internal sealed class ContactPage(int capacity = 0)
{
    readonly List<ContactChange> changes = new(capacity);
    readonly List<MappedContact> rejected = [];

    /// <summary>Rows added, accepted or rejected.</summary>
    public int Rows => changes.Count + rejected.Count;

    public void Add(MappedContact row, long version, DateTimeOffset at)
    {
        if (row.Rejected)
        {
            rejected.Add(row);
        }
        else
        {
            changes.Add(SourceEvents.Contact(row, version, at));
        }
    }

    public FoldedChanges Complete() => FoldedChanges.OfContacts(changes, rejected);
}
