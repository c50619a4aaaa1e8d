using CampaignEvents.Contracts;
using CampaignEvents.Source.Publishing;

namespace CampaignEvents.Source.Capture;

/// <summary>
/// The newest state of one contact key that a transaction, a snapshot page or a poll produced:
/// the row as it is now (<see cref="Upsert"/>) or its delete (<see cref="Delete"/>). No other kind
/// can exist (the constructor is private), and the fold and the publisher use only the members
/// every kind implements, so the compiler checks them instead of a type test.
/// </summary>
internal abstract record ContactChange
{
    ContactChange()
    {
    }

    /// <summary>The contact the change is about: one key once per transaction and per batch.</summary>
    public abstract (Guid CampaignId, string PhoneNumber) Key { get; }

    public abstract long Version { get; }

    /// <summary>The estimated size of the change in a batch's JSON (<see cref="ChangePublisher.EstimatedBytes(ContactChanged)"/>).</summary>
    public abstract int EstimatedBytes { get; }

    /// <summary>Adds the change's event to the list of its kind, for a batch.</summary>
    public abstract void AddTo(List<ContactChanged> changes, List<ContactDeleted> deletes);

    /// <summary>An inserted or updated row: its new state.</summary>
    public sealed record Upsert(ContactChanged Event) : ContactChange
    {
        public override (Guid CampaignId, string PhoneNumber) Key => (Event.CampaignId, Event.PhoneNumber);

        public override long Version => Event.Version;

        public override int EstimatedBytes => ChangePublisher.EstimatedBytes(Event);

        public override void AddTo(List<ContactChanged> changes, List<ContactDeleted> deletes) => changes.Add(Event);
    }

    /// <summary>A deleted row, or the old key of a row whose key changed.</summary>
    public sealed record Delete(ContactDeleted Event) : ContactChange
    {
        public override (Guid CampaignId, string PhoneNumber) Key => (Event.CampaignId, Event.PhoneNumber);

        public override long Version => Event.Version;

        public override int EstimatedBytes => ChangePublisher.EstimatedBytes(Event);

        public override void AddTo(List<ContactChanged> changes, List<ContactDeleted> deletes) => deletes.Add(Event);
    }
}
