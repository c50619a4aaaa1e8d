using System.Text;
using System.Text.Json;

namespace CampaignEvents.Source.Mapping;

/// <summary>
/// Renders a column value received as text (pgoutput's text format: the type's output function,
/// in a session pinned by <see cref="SourceSession"/>) as PostgreSQL's <c>to_jsonb</c> renders the
/// value itself, so a row streamed by replication folds into the same metadata as the snapshot,
/// polling and the reconciliation digest, which let PostgreSQL render it (docs/adr/0013).
/// </summary>
internal static class TextAsJson
{
    /// <summary>Writes <paramref name="text"/>, a value of <paramref name="type"/>, as JSON.</summary>
    public static void Write(Utf8JsonWriter writer, string text, ColumnType type)
    {
        switch (type.Kind)
        {
            case JsonKind.Boolean:
                writer.WriteBooleanValue(text == "t");
                break;
            case JsonKind.Number:
                // to_jsonb: a number when the text output is a JSON number, otherwise (NaN, Infinity) a string
                if (IsJsonNumber(text))
                {
                    writer.WriteRawValue(text, skipInputValidation: true);
                }
                else
                {
                    writer.WriteStringValue(text);
                }

                break;
            case JsonKind.Timestamp:
            case JsonKind.TimestampTz:
                writer.WriteStringValue(XsdTimestamp(text, type.Kind == JsonKind.TimestampTz));
                break;
            case JsonKind.Json:
                {
                    using var document = JsonDocument.Parse(text, ParseOptions);
                    document.RootElement.WriteTo(writer);
                    break;
                }

            case JsonKind.Array:
                WriteArray(writer, text, type);
                break;
            case JsonKind.Unsupported:
                throw new JsonException($"a value of type {type.Name} cannot be folded from the replication stream (composite, or with its own cast to json)");
            default:
                // text, and dates: the ISO output (DateStyle ISO, pinned) is to_jsonb's rendering already
                writer.WriteStringValue(text);
                break;
        }
    }

    /// <summary>The JSON text of one value, escaping only what JSON requires (tests and diagnostics).</summary>
    public static string Render(string text, ColumnType type)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            Write(writer, text, type);
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>PostgreSQL's IsValidJsonNumber: <c>-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?</c>, nothing else.</summary>
    public static bool IsJsonNumber(ReadOnlySpan<char> s)
    {
        var i = 0;
        if (i < s.Length && s[i] == '-')
        {
            i++;
        }

        if (i >= s.Length)
        {
            return false;
        }

        if (s[i] == '0')
        {
            i++;
        }
        else if (char.IsAsciiDigit(s[i]))
        {
            i = Digits(s, i);
        }
        else
        {
            return false;
        }

        if (i < s.Length && s[i] == '.')
        {
            var start = ++i;
            i = Digits(s, i);
            if (i == start)
            {
                return false;
            }
        }

        if (i < s.Length && s[i] is 'e' or 'E')
        {
            i++;
            if (i < s.Length && s[i] is '+' or '-')
            {
                i++;
            }

            var start = i;
            i = Digits(s, i);
            if (i == start)
            {
                return false;
            }
        }

        return i == s.Length;
    }

    static int Digits(ReadOnlySpan<char> s, int i)
    {
        while (i < s.Length && char.IsAsciiDigit(s[i]))
        {
            i++;
        }

        return i;
    }

    /// <summary>
    /// ISO output (<c>2026-03-01 12:00:00.5+00</c>, <c>… BC</c>, <c>infinity</c>) to to_jsonb's XSD
    /// form (<c>2026-03-01T12:00:00.5+00:00</c>): a T between date and time, the offset with minutes.
    /// </summary>
    static string XsdTimestamp(string text, bool withZone)
    {
        var space = text.IndexOf(' ', StringComparison.Ordinal);
        if (space < 0)
        {
            // infinity, -infinity
            return text;
        }

        var value = string.Concat(text.AsSpan(0, space), "T", text.AsSpan(space + 1));
        if (!withZone)
        {
            return value;
        }

        // the offset follows the seconds: the first sign after the T
        var sign = value.IndexOfAny(['+', '-'], space + 1);
        var end = value.IndexOf(' ', space + 1);
        end = end < 0 ? value.Length : end;
        var offset = sign < 0 ? "" : value[sign..end];
        if (offset is not ("+00" or "+00:00"))
        {
            // the digests render in UTC: a stream in another zone would publish other strings
            throw new JsonException($"timestamp with time zone {text} is not in UTC: the replication session's TimeZone must be UTC (docs/adr/0013)");
        }

        return offset.Length == 3 ? string.Concat(value.AsSpan(0, end), ":00", value.AsSpan(end)) : value;
    }

    /// <summary>
    /// An array in PostgreSQL's text form (<c>{a,"b c",NULL}</c>, <c>{{1,2},{3,4}}</c>, or with
    /// explicit bounds <c>[2:3]={a,b}</c>) as nested JSON arrays, each element rendered by its type.
    /// </summary>
    static void WriteArray(Utf8JsonWriter writer, string text, ColumnType type)
    {
        var element = type.Element ?? ColumnType.Text;
        var i = 0;
        if (text.StartsWith('['))
        {
            // bounds other than 1 are written first; to_jsonb ignores them
            i = text.IndexOf('=', StringComparison.Ordinal) + 1;
        }

        Level(writer, text, ref i, element, type.Delimiter);
    }

    static void Level(Utf8JsonWriter writer, string text, ref int i, ColumnType element, char delimiter)
    {
        SkipSpace(text, ref i);
        Expect(text, i++, '{');
        writer.WriteStartArray();
        SkipSpace(text, ref i);
        if (Peek(text, i) == '}')
        {
            i++;
            writer.WriteEndArray();
            return;
        }

        while (true)
        {
            SkipSpace(text, ref i);
            var c = Peek(text, i);
            if (c == '{')
            {
                Level(writer, text, ref i, element, delimiter);
            }
            else if (c == '"')
            {
                var value = new StringBuilder();
                i++;
                while (Peek(text, i) != '"')
                {
                    if (text[i] == '\\')
                    {
                        i++;
                    }

                    value.Append(Peek(text, i));
                    i++;
                }

                i++;
                Write(writer, value.ToString(), element);
            }
            else
            {
                var start = i;
                while (Peek(text, i) != delimiter && text[i] != '}')
                {
                    i++;
                }

                var value = text.AsSpan(start, i - start).TrimEnd(ArraySpace);
                if (value.Equals("NULL", StringComparison.OrdinalIgnoreCase))
                {
                    writer.WriteNullValue();
                }
                else
                {
                    Write(writer, value.ToString(), element);
                }
            }

            SkipSpace(text, ref i);
            if (Peek(text, i) == delimiter)
            {
                i++;
                continue;
            }

            Expect(text, i++, '}');
            writer.WriteEndArray();
            return;
        }
    }

    static char Peek(string text, int i) =>
        i < text.Length ? text[i] : throw new JsonException($"array value {Shorten(text)} ends early");

    static void Expect(string text, int i, char wanted)
    {
        if (Peek(text, i) != wanted)
        {
            throw new JsonException($"array value {Shorten(text)}: '{wanted}' expected at {i}");
        }
    }

    static void SkipSpace(string text, ref int i)
    {
        while (i < text.Length && ArraySpace.Contains(text[i]))
        {
            i++;
        }
    }

    /// <summary>What PostgreSQL's array_isspace calls space (not every Unicode space: array_out does not quote those).</summary>
    const string ArraySpace = " \t\n\r\v\f";

    static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";

    static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = 1_000 };
}
