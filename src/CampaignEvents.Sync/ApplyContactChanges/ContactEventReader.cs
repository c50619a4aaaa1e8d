using System.Globalization;
using System.Text;
using System.Text.Json;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.Infrastructure.Phones;

namespace CampaignEvents.Sync.ApplyContactChanges;

/// <summary>
/// Turns the JSON of one message into validated changes, or throws
/// <see cref="InvalidContactEventException"/> with a reason an operator can act on. Pure: no
/// database, no broker.
/// </summary>
internal static partial class ContactEventReader
{
    /// <summary>
    /// The kind of a message: the exchange it was published to when it is one of ours; otherwise
    /// (sent straight to the queue, e.g. replayed from the error queue) its shape.
    /// </summary>
    public static ContactEventKind KindOf(string? exchange, IReadOnlyDictionary<string, JsonElement> fields) => exchange switch
    {
        Topology.ContactChangedExchange => ContactEventKind.Changed,
        Topology.ContactDeletedExchange => ContactEventKind.Deleted,
        Topology.ContactChangeBatchExchange => ContactEventKind.Batch,
        _ when Find(fields, "changes").HasValue || Find(fields, "deletes").HasValue || Find(fields, "batchId").HasValue => ContactEventKind.Batch,
        _ when Find(fields, "metadata").HasValue => ContactEventKind.Changed,
        _ => ContactEventKind.Deleted,
    };

    /// <summary>
    /// Reads a message body as it came from the broker. A well-formed message of one of our
    /// exchanges is read in one pass without a document (<see cref="ContactEventFastReader"/>);
    /// anything the fast pass does not accept as valid is read again here, field by field, which
    /// gives the same result or the precise reason (docs/adr/0010).
    /// </summary>
    public static ContactEvent ReadBody(string? exchange, ReadOnlyMemory<byte> body, int maxMetadataBytes)
    {
        if (ContactEventFastReader.TryRead(exchange, body.Span, maxMetadataBytes) is { } fast)
        {
            return fast;
        }

        // decoding would put U+FFFD in place of such bytes and store a text nobody sent: refused instead
        if (StorableText.InvalidUtf8At(body.Span) is var invalid and >= 0)
        {
            throw new InvalidContactEventException($"the body is not valid UTF-8 at byte {invalid}");
        }

        using var document = ParseDocument(body);
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidContactEventException($"a contact event must be a JSON object, not {Describe(document.RootElement)}");
        }

        // as a dictionary of the top-level properties, the last of a repeated name wins (as System.Text.Json's extension data)
        var fields = new Dictionary<string, JsonElement>();
        foreach (var property in document.RootElement.EnumerateObject())
        {
            string name;
            try
            {
                name = property.Name;
            }
            catch (InvalidOperationException e)
            {
                throw NotText("a property name", e);
            }

            fields[name] = property.Value;
        }

        return Read(KindOf(exchange, fields), fields, maxMetadataBytes);
    }

    /// <summary>
    /// How deep a body may nest (System.Text.Json's default, as the fast reader reads it): metadata
    /// at most 63 levels in a single event, 61 in a batch item. Bounds the work one message costs.
    /// </summary>
    const int MaxDepth = 64;

    /// <summary>The body as a document, as lenient as MassTransit's raw JSON deserializer; not JSON is an invalid event.</summary>
    static JsonDocument ParseDocument(ReadOnlyMemory<byte> body)
    {
        // "not JSON: The input does not contain any JSON tokens" would send the operator looking for a typo
        if (body.IsEmpty)
        {
            throw new InvalidContactEventException("the body is empty (0 bytes): a contact event is a JSON object");
        }

        try
        {
            return JsonDocument.Parse(body, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip, MaxDepth = MaxDepth });
        }
        catch (JsonException e)
        {
            // JSON nested too deep is JSON: say what is wrong with it rather than "not JSON"
            if (NestedDepth(body.Span) is var depth and > MaxDepth)
            {
                throw new InvalidContactEventException(string.Create(
                    CultureInfo.InvariantCulture,
                    $"the body is nested deeper than {MaxDepth} levels ({depth}), the most this consumer reads: metadata may nest at most {MaxDepth - 1} levels (in a batch item {MaxDepth - 3})"));
            }

            throw new InvalidContactEventException($"the body is not JSON: {e.Message}");
        }
    }

    /// <summary>The depth of a body that is JSON at any depth, or -1 when it is not JSON (only read for a body already refused).</summary>
    static int NestedDepth(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip, MaxDepth = int.MaxValue });
        var deepest = 0;
        try
        {
            while (reader.Read())
            {
                deepest = Math.Max(deepest, reader.CurrentDepth + (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray ? 1 : 0));
            }

            return deepest;
        }
        catch (JsonException)
        {
            return -1;
        }
    }

    public static ContactEvent Read(ContactEventKind kind, IReadOnlyDictionary<string, JsonElement> fields, int maxMetadataBytes)
    {
        switch (kind)
        {
            case ContactEventKind.Changed:
                return new ContactEvent(kind, [ReadItem(fields, isDelete: false, maxMetadataBytes, "")]);
            case ContactEventKind.Deleted:
                return new ContactEvent(kind, [ReadItem(fields, isDelete: true, maxMetadataBytes, "")]);
            default:
                return new ContactEvent(kind, ReadBatch(fields, maxMetadataBytes));
        }
    }

    static List<ContactChange> ReadBatch(IReadOnlyDictionary<string, JsonElement> fields, int maxMetadataBytes)
    {
        RequireGuid(fields, "batchId", "");
        var changes = new List<ContactChange>();
        var reasons = new List<string>();
        foreach (var (name, isDelete) in new[] { ("changes", false), ("deletes", true) })
        {
            if (Find(fields, name) is not { } list || list.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            if (list.ValueKind != JsonValueKind.Array)
            {
                throw new InvalidContactEventException($"{name} must be an array, not {Describe(list)}");
            }

            var index = 0;
            foreach (var item in list.EnumerateArray())
            {
                var where = $"{name}[{index++}].";
                try
                {
                    if (item.ValueKind != JsonValueKind.Object)
                    {
                        throw new InvalidContactEventException($"{where[..^1]} must be an object, not {Describe(item)}");
                    }

                    changes.Add(ReadItem(new ObjectFields(item), isDelete, maxMetadataBytes, where));
                }
                catch (InvalidContactEventException e)
                {
                    reasons.Add(e.Message);
                }
            }
        }

        if (reasons.Count > 0)
        {
            // the whole message is refused, so nothing of it is applied and it can be replayed as one (docs/adr/0002)
            throw new InvalidContactEventException(
                $"{reasons.Count} invalid item(s) in the batch, none of its {changes.Count + reasons.Count} items applied: {string.Join("; ", reasons.Take(20))}{(reasons.Count > 20 ? "; ..." : "")}");
        }

        return changes;
    }

    static ContactChange ReadItem(IReadOnlyDictionary<string, JsonElement> fields, bool isDelete, int maxMetadataBytes, string where)
    {
        RequireGuid(fields, "eventId", where);
        var campaignId = RequireGuid(fields, "campaignId", where);
        var phone = Require(fields, "phoneNumber", where);
        if (phone.ValueKind != JsonValueKind.String)
        {
            throw new InvalidContactEventException($"{where}phoneNumber must be a string, not {Describe(phone)}");
        }

        var phoneNumber = Text(phone, where, "phoneNumber");
        if (!PhoneNormalizer.IsE164(phoneNumber, out var reason))
        {
            throw new InvalidContactEventException($"{where}{reason}");
        }

        var versionElement = Require(fields, "version", where);
        if (versionElement.ValueKind != JsonValueKind.Number || !versionElement.TryGetInt64(out var version))
        {
            throw new InvalidContactEventException($"{where}version must be a whole number, not {Describe(versionElement)}");
        }

        if (version < 0)
        {
            throw new InvalidContactEventException($"{where}version must not be negative ({version})");
        }

        var occurredAt = Require(fields, "occurredAt", where);
        if (occurredAt.ValueKind != JsonValueKind.String || !occurredAt.TryGetDateTimeOffset(out var occurred))
        {
            throw new InvalidContactEventException($"{where}occurredAt must be an ISO 8601 date and time, not {Describe(occurredAt)}");
        }

        var metadata = Find(fields, "metadata");
        if (isDelete)
        {
            // a delete carries no metadata: the shape alone then tells a replayed delete from a change
            if (metadata is { ValueKind: not JsonValueKind.Null })
            {
                throw new InvalidContactEventException($"{where}a ContactDeleted carries no metadata (was it published to the wrong exchange?)");
            }

            return ContactChange.Delete(campaignId, phoneNumber, version, occurred);
        }

        if (metadata is not { } value)
        {
            throw new InvalidContactEventException($"{where}metadata is missing");
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidContactEventException($"{where}metadata must be a JSON object, not {Describe(value)}");
        }

        var text = value.GetRawText();
        var bytes = Encoding.UTF8.GetByteCount(text);
        if (bytes > maxMetadataBytes)
        {
            throw new InvalidContactEventException($"{where}metadata is {bytes} bytes, above the limit of {maxMetadataBytes} (Sync:MaxMetadataBytes)");
        }

        if (StorableText.JsonbRefuses(text) is { } refused)
        {
            throw new InvalidContactEventException($"{where}metadata contains {refused}, which PostgreSQL jsonb cannot store");
        }

        // the envelope may have comments and trailing commas (as MassTransit reads it); the stored object may not
        if (!IsStrictJson(text))
        {
            throw new InvalidContactEventException($"{where}metadata has a comment or a trailing comma, which PostgreSQL jsonb refuses");
        }

        return ContactChange.Upsert(campaignId, phoneNumber, version, text, occurred);
    }

}
