using System.Text.Json;
using CampaignEvents.Contracts;
using CampaignEvents.Source.Mapping;

namespace CampaignEvents.Source.Capture;

/// <summary>What one source transaction (or a snapshot page, or a heartbeat) amounts to, ready to publish.</summary>
public sealed record FoldedChanges(
    ulong EndLsn,
    IReadOnlyList<CampaignChanged> Campaigns,
    IReadOnlyList<ContactChanged> Changes,
    IReadOnlyList<ContactDeleted> Deletes,
    IReadOnlyList<MappedContact> Rejected)
{
    /// <summary>Nothing to publish, only a WAL position the slot may advance to once everything before it is confirmed.</summary>
    public static FoldedChanges Marker(ulong lsn) => new(lsn, [], [], [], []);

    public int Count => Campaigns.Count + Changes.Count + Deletes.Count;
}

/// <summary>
/// Folds the changes of one committed transaction into events (docs/adr/0004): versions are
/// <see cref="SourceVersion.ForChange"/> of the commit LSN and the change's 1-based position; only
/// the last change per key survives; an update that moves a contact to another key is a delete
/// of the old key plus a change of the new one; a row that does not map is rejected, not published.
/// </summary>
public sealed class TransactionFold(ulong commitLsn, DateTimeOffset committedAt)
{
    readonly Dictionary<Guid, CampaignChanged> campaigns = [];
    readonly Dictionary<(Guid, string), object> contacts = [];
    readonly List<MappedContact> rejected = [];

    public void Campaign(long position, Guid id, string name, string type, string status, JsonElement config) =>
        campaigns[id] = new CampaignChanged
        {
            EventId = Guid.NewGuid(),
            Id = id,
            Name = name,
            Type = type,
            Status = status,
            Config = config,
            Version = SourceVersion.ForChange(commitLsn, position),
            OccurredAt = committedAt,
        };

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

        contacts[(row.CampaignId, row.PhoneNumber!)] = new ContactChanged
        {
            EventId = Guid.NewGuid(),
            CampaignId = row.CampaignId,
            PhoneNumber = row.PhoneNumber!,
            Metadata = row.Metadata,
            Version = SourceVersion.ForChange(commitLsn, position),
            OccurredAt = committedAt,
        };
    }

    /// <summary>A delete; a key that never mapped (rejected row) was never published, so there is nothing to delete.</summary>
    public void Delete(long position, (Guid CampaignId, string PhoneNumber)? key)
    {
        if (key is not { } k)
        {
            return;
        }

        contacts[k] = new ContactDeleted
        {
            EventId = Guid.NewGuid(),
            CampaignId = k.CampaignId,
            PhoneNumber = k.PhoneNumber,
            Version = SourceVersion.ForChange(commitLsn, position),
            OccurredAt = committedAt,
        };
    }

    public FoldedChanges Complete(ulong endLsn) => new(
        endLsn,
        [.. campaigns.Values],
        [.. contacts.Values.OfType<ContactChanged>()],
        [.. contacts.Values.OfType<ContactDeleted>()],
        [.. rejected]);
}
