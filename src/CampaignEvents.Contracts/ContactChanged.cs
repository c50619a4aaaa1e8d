using System.Text.Json;

namespace CampaignEvents.Contracts;

/// <summary>
/// A contact was created or changed at the source. Published to the exchange <c>contact-changed</c>
/// (<see cref="ContractNames.ContactChangedExchange"/>) as plain JSON with camelCase properties.
/// The consumer keeps, per (<see cref="CampaignId"/>, <see cref="PhoneNumber"/>), the event with the
/// highest <see cref="Version"/> (last writer wins by source version, docs/adr/0001); older and
/// repeated events change nothing, so a publisher may retry and redeliver freely.
/// </summary>
public sealed record ContactChanged
{
    /// <summary>
    /// Unique id of this event, chosen by the publisher (a new one per event). Used for tracing and
    /// logs only: the consumer does not deduplicate by it, since a repeated event is already harmless
    /// by <see cref="Version"/>.
    /// </summary>
    public required Guid EventId { get; init; }

    /// <summary>
    /// The campaign the contact belongs to. The campaign must reach the consumer too (a
    /// <see cref="CampaignChanged"/> with this <see cref="CampaignChanged.Id"/>); until it does, the
    /// contact waits in the broker's wait queues and is retried, then ends in the error queue.
    /// </summary>
    public required Guid CampaignId { get; init; }

    /// <summary>
    /// The contact's phone number in E.164: <c>+</c>, a digit 1-9, then up to 14 more digits, no
    /// spaces (<c>+33612345678</c>). With <see cref="CampaignId"/> it is the contact's key. The
    /// consumer refuses a number that is not E.164 or not a valid number (libphonenumber) to the error queue.
    /// </summary>
    public required string PhoneNumber { get; init; }

    /// <summary>
    /// The source's version of this change, never negative; a later change of the same key at the
    /// source must carry a higher version (the source adapter derives it from the commit's WAL
    /// position, or from the polling column). The highest version per key wins; an equal version
    /// changes nothing, and a <see cref="ContactDeleted"/> of the same version wins over this change.
    /// A change at or below the key's tombstone version is ignored (docs/adr/0003).
    /// </summary>
    public required long Version { get; init; }

    /// <summary>
    /// When the change happened at the source, with its offset. Informational: ordering comes from
    /// <see cref="Version"/> only; the consumer uses it for the end-to-end latency metric.
    /// </summary>
    public required DateTimeOffset OccurredAt { get; init; }

    /// <summary>
    /// The contact's whole metadata, a JSON object (never null, an array or a scalar; <c>{}</c> for
    /// none). It replaces what was stored for the key, it is not merged. At most
    /// <c>Sync:MaxMetadataBytes</c> (64 KiB by default), no <c>\u0000</c>.
    /// </summary>
    public required JsonElement Metadata { get; init; }
}
