using System.Text.Json;
using System.Text.Json.Serialization;

namespace CampaignEvents.Sync.ApplyContactChanges;

/// <summary>
/// Whatever JSON arrives on the queue <c>contact-changes</c>. One queue carries three shapes
/// (ContactChanged, ContactDeleted, ContactChangeBatch) without a type header, so the endpoint
/// consumes this one type and <see cref="ContactEventReader"/> decides the kind (from the exchange
/// the message was published to) and validates every field itself from the message body, so each
/// failure gets a precise reason (docs/adr/0002). The endpoint's <see cref="ContactWireDeserializer"/>
/// does not parse the body: it is read once, by <see cref="ContactEventReader.ReadBody"/> (docs/adr/0010).
/// </summary>
[JsonConverter(typeof(ContactWireConverter))]
internal sealed record ContactWire
{
    /// <summary>
    /// Set by <see cref="ContactValidationFilter"/> before the message joins a batch, so the batch
    /// consumer does not read it again. Never on the wire.
    /// </summary>
    internal ContactEvent? Validated { get; set; }

    /// <summary>The body as received, kept so a <c>Fault&lt;ContactWire&gt;</c> MassTransit publishes still carries the message.</summary>
    internal ReadOnlyMemory<byte> Body { get; set; }
}

/// <summary>
/// Reads no fields (the body is read by <see cref="ContactEventReader"/>, not here); writes the body
/// as received, so a fault or a copy in the error queue shows the message itself.
/// </summary>
internal sealed class ContactWireConverter : JsonConverter<ContactWire>
{
    public override ContactWire Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException($"a contact event must be a JSON object, not {reader.TokenType}");
        }

        reader.Skip();
        return new ContactWire();
    }

    public override void Write(Utf8JsonWriter writer, ContactWire value, JsonSerializerOptions options)
    {
        if (value.Body.IsEmpty)
        {
            writer.WriteStartObject();
            writer.WriteEndObject();
        }
        else
        {
            writer.WriteRawValue(value.Body.Span, skipInputValidation: true);
        }
    }
}

/// <summary>The three kinds of message the queue <c>contact-changes</c> carries, named after their exchanges.</summary>
public enum ContactEventKind
{
    Changed,
    Deleted,
    Batch,
}

/// <summary>A message that passed validation: its kind and its changes.</summary>
internal sealed record ContactEvent(ContactEventKind Kind, IReadOnlyList<ContactChange> Changes);
