using System.Net.Mime;
using System.Text.Json;
using MassTransit;
using MassTransit.Serialization;

namespace CampaignEvents.Sync.ApplyContactChanges;

/// <summary>
/// The deserializer of the queue <c>contact-changes</c>: hands every body on as a
/// <see cref="ContactWire"/> without parsing it. MassTransit's raw JSON deserializer would parse
/// each body into a document that nothing reads, since <see cref="ContactValidationFilter"/> reads
/// the body itself (a batch of 2,000 changes is ~400 KB: that parse was ~5 % of the process's CPU
/// during an initial sync, docs/adr/0010). A body that is not JSON at all fails in the filter,
/// with the reason, like any other invalid message.
/// </summary>
internal sealed class ContactWireDeserializer : IMessageDeserializer, ISerializerFactory
{
    const RawSerializerOptions Options = RawSerializerOptions.AnyMessageType | RawSerializerOptions.CopyHeaders;

    /// <summary>What <see cref="ContactWireConverter"/> reads instead of the body: one empty object.</summary>
    static readonly JsonElement NotRead = JsonElement.Parse("{}");

    public ContentType ContentType => SystemTextJsonRawMessageSerializer.JsonContentType;

    public ConsumeContext Deserialize(ReceiveContext receiveContext) =>
        new BodyConsumeContext(receiveContext, Deserialize(receiveContext.Body, receiveContext.TransportHeaders, receiveContext.InputAddress));

    public SerializerContext Deserialize(MessageBody body, Headers headers, Uri? destinationAddress = null) =>
        new SystemTextJsonRawSerializerContext(
            SystemTextJsonMessageSerializer.Instance,
            SystemTextJsonMessageSerializer.Options,
            ContentType,
            new RawMessageContext(headers, destinationAddress, Options),
            headers.GetMessageTypes(),
            Options,
            NotRead);

    public MessageBody GetMessageBody(string text) => new StringMessageBody(text);

    public IMessageDeserializer CreateDeserializer() => this;

    public IMessageSerializer CreateSerializer() => new SystemTextJsonRawMessageSerializer(Options);

    public void Probe(ProbeContext context) => context.CreateScope("contact-wire").Add("contentType", ContentType.MediaType);
}
