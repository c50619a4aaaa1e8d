using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.Infrastructure.Phones;

namespace CampaignEvents.Sync.ApplyContactChanges;

/// <summary>
/// One forward pass over a message body with <see cref="Utf8JsonReader"/>, for the messages that
/// are valid and written the way the contract shows (exact camelCase names, each once). It either
/// returns exactly what <see cref="ContactEventReader.Read"/> would return, or null, and then the
/// body is read again by <see cref="ContactEventReader"/>, which finds the reason. So it never
/// decides that something is invalid, and every check it makes is the same call the slow reader
/// makes (Guid.TryParse, TryGetInt64, TryGetDateTimeOffset, PhoneNormalizer.IsE164) (docs/adr/0010).
/// </summary>
static class ContactEventFastReader
{
    static readonly string[] BatchNames = ["batchId", "changes", "deletes"];
    static readonly string[] ItemNames = ["eventId", "campaignId", "phoneNumber", "version", "occurredAt", "metadata"];
    static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static ContactEvent? TryRead(string? exchange, ReadOnlySpan<byte> body, int maxMetadataBytes)
    {
        // a message sent straight to the queue (replayed) is told by its shape: the slow reader does that
        var kind = exchange switch
        {
            Topology.ContactChangedExchange => ContactEventKind.Changed,
            Topology.ContactDeletedExchange => ContactEventKind.Deleted,
            Topology.ContactChangeBatchExchange => ContactEventKind.Batch,
            _ => (ContactEventKind?)null,
        };
        // bytes that are not UTF-8 anywhere in the body, even in a property nobody reads: the slow reader says where
        if (kind is not { } known || !Utf8.IsValid(body))
        {
            return null;
        }

        try
        {
            var reader = new Utf8JsonReader(body);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            List<ContactChange>? changes;
            if (known == ContactEventKind.Batch)
            {
                changes = TryReadBatch(ref reader, body, maxMetadataBytes);
            }
            else
            {
                changes = TryReadItem(ref reader, body, known == ContactEventKind.Deleted, maxMetadataBytes) is { } item ? [item] : null;
            }

            // nothing may follow the object (the document parser would refuse it)
            return changes is not null && !reader.Read() ? new ContactEvent(known, changes) : null;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or DecoderFallbackException)
        {
            // not well-formed for this pass (e.g. an escaped lone surrogate, bytes that are not UTF-8): the slow reader says what it is
            return null;
        }
    }

    static List<ContactChange>? TryReadBatch(ref Utf8JsonReader reader, ReadOnlySpan<byte> body, int maxMetadataBytes)
    {
        var seen = 0;
        List<ContactChange>? changes = null;
        List<ContactChange>? deletes = null;
        int name;
        while ((name = NextProperty(ref reader, BatchNames, ref seen)) >= 0)
        {
            switch (name)
            {
                case 0:
                    if (!TryGuid(ref reader, out _))
                    {
                        return null;
                    }

                    break;
                case 1 or 2:
                    if (reader.TokenType == JsonTokenType.Null)
                    {
                        break;
                    }

                    if (reader.TokenType != JsonTokenType.StartArray)
                    {
                        return null;
                    }

                    var list = new List<ContactChange>();
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        if (reader.TokenType != JsonTokenType.StartObject || TryReadItem(ref reader, body, isDelete: name == 2, maxMetadataBytes) is not { } item)
                        {
                            return null;
                        }

                        list.Add(item);
                    }

                    if (name == 1)
                    {
                        changes = list;
                    }
                    else
                    {
                        deletes = list;
                    }

                    break;
            }
        }

        if (name == LeftToSlowReader || (seen & 1) == 0 || reader.TokenType != JsonTokenType.EndObject)
        {
            return null;
        }

        // changes first, then deletes, as the slow reader lists them
        var all = changes ?? [];
        if (deletes is not null)
        {
            all.AddRange(deletes);
        }

        return all;
    }

    /// <summary>Reads the object the reader is on (StartObject) up to its EndObject.</summary>
    static ContactChange? TryReadItem(ref Utf8JsonReader reader, ReadOnlySpan<byte> body, bool isDelete, int maxMetadataBytes)
    {
        var seen = 0;
        Guid campaignId = default;
        string? phoneNumber = null;
        long version = 0;
        DateTimeOffset occurredAt = default;
        string? metadata = null;
        int name;
        while ((name = NextProperty(ref reader, ItemNames, ref seen)) >= 0)
        {
            switch (name)
            {
                case 0:
                    if (!TryGuid(ref reader, out _))
                    {
                        return null;
                    }

                    break;
                case 1:
                    if (!TryGuid(ref reader, out campaignId))
                    {
                        return null;
                    }

                    break;
                case 2:
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        return null;
                    }

                    phoneNumber = reader.GetString()!;
                    if (!PhoneNormalizer.IsE164(phoneNumber, out _))
                    {
                        return null;
                    }

                    break;
                case 3:
                    if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out version) || version < 0)
                    {
                        return null;
                    }

                    break;
                case 4:
                    if (reader.TokenType != JsonTokenType.String || !reader.TryGetDateTimeOffset(out occurredAt))
                    {
                        return null;
                    }

                    break;
                case 5:
                    if (isDelete)
                    {
                        // a delete may say metadata: null; anything else is the slow reader's to explain
                        if (reader.TokenType != JsonTokenType.Null)
                        {
                            return null;
                        }

                        break;
                    }

                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        return null;
                    }

                    var start = (int)reader.TokenStartIndex;
                    reader.Skip();
                    var bytes = body[start..(int)reader.BytesConsumed];
                    if (bytes.Length > maxMetadataBytes)
                    {
                        return null;
                    }

                    // throws on bytes that are not UTF-8 rather than replacing them with U+FFFD
                    var text = StrictUtf8.GetString(bytes);
                    if (StorableText.JsonbRefuses(text) is not null)
                    {
                        return null;
                    }

                    metadata = text;
                    break;
            }
        }

        // every field but metadata is required; a change needs its metadata
        var required = isDelete ? 0b01_1111 : 0b11_1111;
        if (name == LeftToSlowReader || (seen & required) != required || reader.TokenType != JsonTokenType.EndObject)
        {
            return null;
        }

        return isDelete
            ? ContactChange.Delete(campaignId, phoneNumber!, version, occurredAt)
            : ContactChange.Upsert(campaignId, phoneNumber!, version, metadata!, occurredAt);
    }

    const int EndOfObject = -1;
    const int LeftToSlowReader = -2;

    /// <summary>
    /// Moves to the value of the next property this pass reads, skipping those it ignores; returns
    /// its index in <paramref name="names"/> (marked in <paramref name="seen"/>), <see cref="EndOfObject"/>,
    /// or <see cref="LeftToSlowReader"/> for a known name in another casing or a name seen twice.
    /// </summary>
    static int NextProperty(ref Utf8JsonReader reader, string[] names, ref int seen)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = NameIndex(ref reader, names);
            if (name == -2 || (name >= 0 && (seen & (1 << name)) != 0))
            {
                return LeftToSlowReader;
            }

            reader.Read();
            if (name == -1)
            {
                reader.Skip();
                continue;
            }

            seen |= 1 << name;
            return name;
        }

        return EndOfObject;
    }

    /// <summary>
    /// The index of the property name in <paramref name="names"/>; -1 for a name the reader
    /// ignores; -2 for another casing of a known name (the slow reader accepts those, by its rules).
    /// </summary>
    static int NameIndex(ref Utf8JsonReader reader, string[] names)
    {
        for (var i = 0; i < names.Length; i++)
        {
            if (reader.ValueTextEquals(names[i]))
            {
                return i;
            }
        }

        var name = reader.GetString()!;
        foreach (var known in names)
        {
            if (string.Equals(name, known, StringComparison.OrdinalIgnoreCase))
            {
                return -2;
            }
        }

        return -1;
    }

    static bool TryGuid(ref Utf8JsonReader reader, out Guid id)
    {
        id = default;
        return reader.TokenType == JsonTokenType.String && Guid.TryParse(reader.GetString(), out id);
    }
}
