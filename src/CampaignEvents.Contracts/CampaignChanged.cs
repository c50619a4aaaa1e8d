using System.Text.Json;

namespace CampaignEvents.Contracts;

/// <summary>
/// A campaign was created or changed at the source. Published to the exchange
/// <c>campaign-changed</c> (<see cref="ContractNames.CampaignChangedExchange"/>); applied like
/// contacts: per <see cref="Id"/>, the highest <see cref="Version"/> wins and older or repeated
/// events change nothing. Contacts of a campaign that has not arrived yet wait and are retried until it does.
/// </summary>
public sealed record CampaignChanged
{
    /// <summary>Unique id of this event, chosen by the publisher; for tracing only (duplicates are harmless).</summary>
    public required Guid EventId { get; init; }

    /// <summary>The campaign's id, the same at the source and locally; the <see cref="ContactChanged.CampaignId"/> of its contacts.</summary>
    public required Guid Id { get; init; }

    /// <summary>The name operators see: free text, not empty (an empty one refuses the event to the error queue).</summary>
    public required string Name { get; init; }

    /// <summary>The campaign's type as the source names it, e.g. <c>voice</c>: not empty, stored as given, not interpreted.</summary>
    public required string Type { get; init; }

    /// <summary>The campaign's status as the source names it, e.g. <c>draft</c>, <c>active</c>: not empty, stored as given, not interpreted.</summary>
    public required string Status { get; init; }

    /// <summary>The campaign's configuration, a JSON object (<c>{}</c> for none; anything else refuses the event); it replaces what was stored, it is not merged.</summary>
    public required JsonElement Config { get; init; }

    /// <summary>
    /// The source's version of this change, never negative; a later change of the campaign must
    /// carry a higher version. The highest version per <see cref="Id"/> wins, an equal one changes nothing.
    /// </summary>
    public required long Version { get; init; }

    /// <summary>When the change happened at the source, with its offset. Informational: ordering comes from <see cref="Version"/> only.</summary>
    public required DateTimeOffset OccurredAt { get; init; }
}
