using System.Globalization;
using System.Text;
using System.Text.Json;

namespace CampaignEvents.Sync.ApplyContactChanges;

/// <summary>The field helpers of <see cref="ContactEventReader"/>: required fields, strict text and JSON, and how a wrong value is described in a reason.</summary>
internal static partial class ContactEventReader
{
    static Guid RequireGuid(IReadOnlyDictionary<string, JsonElement> fields, string name, string where)
    {
        var value = Require(fields, name, where);
        if (value.ValueKind != JsonValueKind.String || !Guid.TryParse(Text(value, where, name), out var id))
        {
            throw new InvalidContactEventException($"{where}{name} must be a UUID string, not {Describe(value)}");
        }

        return id;
    }

    /// <summary>A JSON string as .NET text; an escaped unpaired surrogate (<c>\ud800</c>) is no text, and the reason says so.</summary>
    static string Text(JsonElement value, string where, string name)
    {
        try
        {
            return value.GetString()!;
        }
        catch (InvalidOperationException e)
        {
            throw NotText($"{where}{name}", e);
        }
    }

    static InvalidContactEventException NotText(string what, InvalidOperationException e) =>
        new($"{what} is not Unicode text (an escaped unpaired surrogate such as \\ud800?): {e.Message}");

    /// <summary>JSON as PostgreSQL reads it: no comments, no trailing commas.</summary>
    static bool IsStrictJson(string text)
    {
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(text));
        try
        {
            reader.Read();
            reader.Skip();
            return !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }

    static JsonElement Require(IReadOnlyDictionary<string, JsonElement> fields, string name, string where) =>
        Find(fields, name) is { ValueKind: not JsonValueKind.Null } value
            ? value
            : throw new InvalidContactEventException($"{where}{name} is missing");

    /// <summary>camelCase is the contract; other casings are accepted as System.Text.Json would.</summary>
    static JsonElement? Find(IReadOnlyDictionary<string, JsonElement> fields, string name)
    {
        if (fields.TryGetValue(name, out var exact))
        {
            return exact;
        }

        foreach (var (key, value) in fields)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }

        return null;
    }

    /// <summary>The properties of a batch item, read in place (no dictionary per item on the hot path).</summary>
    sealed class ObjectFields(JsonElement item) : IReadOnlyDictionary<string, JsonElement>
    {
        public JsonElement this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException(key);

        public IEnumerable<string> Keys => item.EnumerateObject().Select(p => p.Name);

        public IEnumerable<JsonElement> Values => item.EnumerateObject().Select(p => p.Value);

        public int Count => item.EnumerateObject().Count();

        public bool ContainsKey(string key) => TryGetValue(key, out _);

        public bool TryGetValue(string key, out JsonElement value) => item.TryGetProperty(key, out value);

        public IEnumerator<KeyValuePair<string, JsonElement>> GetEnumerator() =>
            item.EnumerateObject().Select(p => new KeyValuePair<string, JsonElement>(p.Name, p.Value)).GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    static string Describe(JsonElement value)
    {
        var text = value.GetRawText();
        return string.Create(CultureInfo.InvariantCulture, $"{value.ValueKind.ToString().ToLowerInvariant()} {(text.Length > 60 ? text[..60] + "..." : text)}");
    }
}
