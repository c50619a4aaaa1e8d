using System.Text.Json;

namespace CampaignEvents.Contracts;

/// <summary>
/// A campaign was created or changed at the source. Published to the exchange
/// <c>campaign-changed</c>; applied like contacts, newest <see cref="Version"/> wins.
/// Contacts of a campaign that has not arrived yet are retried until it does.
/// </summary>
public sealed record CampaignChanged
{
    /// <summary>Unique id of this event.</summary>
    public required Guid EventId { get; init; }

    /// <summary>The campaign's id, the same at the source and locally.</summary>
    public required Guid Id { get; init; }

    /// <summary>Display name.</summary>
    public required string Name { get; init; }

    /// <summary>Campaign type, e.g. <c>voice</c>.</summary>
    public required string Type { get; init; }

    /// <summary>Campaign status, e.g. <c>draft</c>, <c>active</c>.</summary>
    public required string Status { get; init; }

    /// <summary>Campaign configuration, a JSON object.</summary>
    public required JsonElement Config { get; init; }

    /// <summary>The source's version of this change.</summary>
    public required long Version { get; init; }

    /// <summary>When the change happened at the source.</summary>
    public required DateTimeOffset OccurredAt { get; init; }
}
