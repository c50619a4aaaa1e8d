using System.Text.Json;
using System.Text.Json.Serialization;

namespace CampaignEvents.Sync.ApplyContactChanges;

/// <summary>
/// Whatever JSON arrives on the queue <c>contact-changes</c>, as MassTransit's raw JSON
/// deserializer hands it over. One queue carries three shapes (ContactChanged, ContactDeleted,
/// ContactChangeBatch) without a type header, so the endpoint consumes this one type and
/// <see cref="ContactEventReader"/> decides the kind (from the exchange the message was published
/// to) and validates every field itself, so each failure gets a precise reason (docs/adr/0002).
/// </summary>
public sealed record ContactWire
{
    [JsonExtensionData]
    public Dictionary<string, JsonElement> Fields { get; init; } = [];

    /// <summary>
    /// Set by <see cref="ContactValidationFilter"/> before the message joins a batch, so the batch
    /// consumer does not parse it again. Never on the wire.
    /// </summary>
    [JsonIgnore]
    internal ContactEvent? Validated { get; set; }
}

/// <summary>The three kinds of message the queue <c>contact-changes</c> carries, named after their exchanges.</summary>
public enum ContactEventKind
{
    Changed,
    Deleted,
    Batch,
}

/// <summary>A message that passed validation: its kind and its changes.</summary>
public sealed record ContactEvent(ContactEventKind Kind, IReadOnlyList<ContactChange> Changes);
