using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using MassTransit.Serialization;

namespace CampaignEvents.Source.Mapping;

/// <summary>The limits a contact's metadata must keep to be published (the sync consumer's own limits): an object, its size on the wire, its depth, no NUL.</summary>
internal sealed partial class SourceMapping
{
    /// <summary>
    /// Why the sync consumer would refuse this metadata, or null when it takes it (issue 12): not an
    /// object, larger on the wire than Source:MaxMetadataBytes, nested deeper than Source:MaxJsonDepth,
    /// or with a NUL character. Such a row is rejected here, like an invalid phone: published, it
    /// would make the consumer refuse its whole batch on every replay.
    /// </summary>
    public string? MetadataProblem(JsonElement metadata)
    {
        if (metadata.ValueKind != JsonValueKind.Object)
        {
            return $"metadata is a JSON {metadata.ValueKind}, not an object";
        }

        var raw = JsonMarshal.GetRawUtf8Value(metadata);
        if (TooDeep(raw, Options.MaxJsonDepth) is { } depth)
        {
            return $"metadata is nested {depth} levels deep, above the limit of {Options.MaxJsonDepth} (Source:MaxJsonDepth)";
        }

        // The bus writes JSON indented, with its own escaping, so the wire text can be longer than the
        // source's: by at most 6 bytes per byte in a string (\uXXXX), or a line break and an
        // indentation per structural byte. Only values that could pass the limit are written out, to
        // be measured as the consumer will measure them.
        var brackets = raw.Count((byte)'{') + raw.Count((byte)'[');
        var growth = Math.Max(6, 3 + (SystemTextJsonMessageSerializer.Options.IndentSize * (Math.Min(brackets, Options.MaxJsonDepth) + BatchDepth)));
        if ((long)raw.Length * growth > Options.MaxMetadataBytes && WireBytes(metadata) is var bytes && bytes > Options.MaxMetadataBytes)
        {
            return $"metadata is {bytes} bytes, above the limit of {Options.MaxMetadataBytes} (Source:MaxMetadataBytes)";
        }

        // as the consumer: PostgreSQL jsonb cannot store it
        return raw.IndexOf("\\u0000"u8) >= 0 ? "metadata contains a NUL character (\\u0000), which PostgreSQL jsonb cannot store" : null;
    }

    /// <summary>The same check on metadata as text (the source side of reconciliation); null when fine.</summary>
    public string? MetadataProblem(string json)
    {
        try
        {
            return MetadataProblem(JsonElement.Parse(json, ParseOptions));
        }
        catch (JsonException e)
        {
            return $"metadata is not JSON ({e.Message})";
        }
    }

    /// <summary>
    /// Maps a campaign row. A config that is not a JSON object or is nested deeper than
    /// Source:MaxJsonDepth is rejected: the consumer refuses the first, and the second cannot be
    /// published or read back within System.Text.Json's depth limit (issue 12: it stopped capture).
    /// </summary>
    public MappedCampaign MapCampaign(string? id, string? name, string? type, string? status, string? config)
    {
        if (!Guid.TryParse(id, out var campaignId))
        {
            return new MappedCampaign(Guid.Empty, "", "", "", default, $"campaign id '{id}' is not a uuid");
        }

        string? problem;
        JsonElement parsed = default;
        try
        {
            parsed = config is null ? EmptyObject : JsonElement.Parse(config, ParseOptions);
            problem = parsed.ValueKind != JsonValueKind.Object ? $"config is a JSON {parsed.ValueKind}, not an object"
                : TooDeep(JsonMarshal.GetRawUtf8Value(parsed), Options.MaxJsonDepth) is { } depth ? $"config is nested {depth} levels deep, above the limit of {Options.MaxJsonDepth} (Source:MaxJsonDepth)"
                : null;
        }
        catch (JsonException e)
        {
            problem = $"config is not JSON ({e.Message})";
        }

        return new MappedCampaign(campaignId, name ?? "", type ?? "", status ?? "", problem is null ? parsed : default, problem);
    }

    /// <summary>The depth of a JSON value when above <paramref name="limit"/>; null when within it.</summary>
    static int? TooDeep(ReadOnlySpan<byte> json, int limit)
    {
        // a value cannot be nested deeper than it has brackets: most values are settled by a count
        if (json.Count((byte)'{') + json.Count((byte)'[') <= limit)
        {
            return null;
        }

        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = ParseOptions.MaxDepth });
        var depth = 0;
        while (reader.Read())
        {
            if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
            {
                depth = Math.Max(depth, reader.CurrentDepth + 1);
            }
        }

        return depth > limit ? depth : null;
    }

    /// <summary>How deep a change's metadata sits in a <c>ContactChangeBatch</c>: root, changes array, item.</summary>
    const int BatchDepth = 3;

    /// <summary>
    /// The bytes of metadata as the bus writes it in a batch: MassTransit's System.Text.Json options
    /// (same escaping, same indentation), at the depth of a batch item, where the consumer measures it.
    /// </summary>
    static long WireBytes(JsonElement value)
    {
        var bus = SystemTextJsonMessageSerializer.Options;
        var buffer = new ArrayBufferWriter<byte>();
        using var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions
        {
            Encoder = bus.Encoder,
            Indented = bus.WriteIndented,
            IndentCharacter = bus.IndentCharacter,
            IndentSize = bus.IndentSize,
            NewLine = bus.NewLine,
            SkipValidation = true,
        });
        writer.WriteStartObject();
        writer.WriteStartArray("changes");
        writer.WriteStartObject();
        writer.WritePropertyName("metadata");
        writer.Flush();
        var before = writer.BytesCommitted;
        value.WriteTo(writer);
        writer.Flush();
        return writer.BytesCommitted - before;
    }

    /// <summary>
    /// Deep values are parsed (to be named with their depth) rather than failing as "not JSON"; the
    /// reader is iterative, so a deep value costs no stack.
    /// </summary>
    static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = 1_000 };
}
