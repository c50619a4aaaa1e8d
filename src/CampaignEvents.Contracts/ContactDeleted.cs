namespace CampaignEvents.Contracts;

/// <summary>
/// A contact was deleted at the source. Published to the exchange <c>contact-deleted</c>.
/// The consumer removes the contact and keeps a tombstone with <see cref="Version"/>, so an
/// older change arriving later cannot bring it back.
/// </summary>
public sealed record ContactDeleted
{
    /// <summary>Unique id of this event.</summary>
    public required Guid EventId { get; init; }

    /// <summary>The campaign the contact belonged to.</summary>
    public required Guid CampaignId { get; init; }

    /// <summary>The contact's phone number in E.164.</summary>
    public required string PhoneNumber { get; init; }

    /// <summary>The source's version of the delete (same scale as <see cref="ContactChanged.Version"/>).</summary>
    public required long Version { get; init; }

    /// <summary>When the delete happened at the source.</summary>
    public required DateTimeOffset OccurredAt { get; init; }
}
