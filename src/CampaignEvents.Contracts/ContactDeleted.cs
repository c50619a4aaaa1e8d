namespace CampaignEvents.Contracts;

/// <summary>
/// A contact was deleted at the source. Published to the exchange <c>contact-deleted</c>
/// (<see cref="ContractNames.ContactDeletedExchange"/>). The consumer removes the contact if its
/// stored version is not higher than <see cref="Version"/>, and keeps a tombstone with that version
/// (docs/adr/0003), so an older <see cref="ContactChanged"/> arriving later cannot bring it back. A
/// delete carries no metadata.
/// </summary>
public sealed record ContactDeleted
{
    /// <summary>Unique id of this event, chosen by the publisher; for tracing only (duplicates are harmless).</summary>
    public required Guid EventId { get; init; }

    /// <summary>The campaign the contact belonged to. A delete of a key the consumer never held still leaves its tombstone.</summary>
    public required Guid CampaignId { get; init; }

    /// <summary>The contact's phone number in E.164 (<c>+</c> and 2 to 15 digits), as in the <see cref="ContactChanged"/> it deletes.</summary>
    public required string PhoneNumber { get; init; }

    /// <summary>
    /// The source's version of the delete, on the same scale as <see cref="ContactChanged.Version"/>
    /// (never negative). It wins over a change of the same version, in either arrival order; a
    /// change must carry a higher version to bring the contact back.
    /// </summary>
    public required long Version { get; init; }

    /// <summary>When the delete happened at the source, with its offset. Informational: ordering comes from <see cref="Version"/> only.</summary>
    public required DateTimeOffset OccurredAt { get; init; }
}
