using System.Text.Json;

namespace CampaignEvents.Contracts;

/// <summary>
/// A contact was created or changed at the source. Published to the exchange <c>contact-changed</c>
/// as plain JSON with camelCase properties. The consumer keeps, per (campaign, phone), the event
/// with the highest <see cref="Version"/>; older and repeated events change nothing.
/// </summary>
public sealed record ContactChanged
{
    /// <summary>Unique id of this event (for tracing; duplicates are harmless).</summary>
    public required Guid EventId { get; init; }

    /// <summary>The campaign the contact belongs to; it must exist locally (see <see cref="CampaignChanged"/>).</summary>
    public required Guid CampaignId { get; init; }

    /// <summary>The contact's phone number in E.164 (<c>+</c> and digits).</summary>
    public required string PhoneNumber { get; init; }

    /// <summary>The source's version of this change: grows with the source's commit order, never negative.</summary>
    public required long Version { get; init; }

    /// <summary>When the change happened at the source.</summary>
    public required DateTimeOffset OccurredAt { get; init; }

    /// <summary>The contact's whole metadata, a JSON object (replaces what was stored).</summary>
    public required JsonElement Metadata { get; init; }
}
