using System.Text;
using System.Text.Json;
using CampaignEvents.Source.Mapping;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace CampaignEvents.UnitTests.Source;

/// <summary>
/// The replication stream's text values rendered as PostgreSQL's to_jsonb renders the values
/// (docs/adr/0013). The expected strings are what PostgreSQL 15 printed for to_jsonb of the same
/// values in a session with TimeZone UTC; Source/TypedMetadataTests checks the rendering against
/// the server itself.
/// </summary>
public sealed class TextAsJsonTests
{
    static readonly ColumnType Number = new("numeric", JsonKind.Number);
    static readonly ColumnType Boolean = new("boolean", JsonKind.Boolean);
    static readonly ColumnType Date = new("date", JsonKind.Date);
    static readonly ColumnType Timestamp = new("timestamp without time zone", JsonKind.Timestamp);
    static readonly ColumnType TimestampTz = new("timestamp with time zone", JsonKind.TimestampTz);
    static readonly ColumnType Json = new("jsonb", JsonKind.Json);
    static readonly ColumnType TextArray = new("text[]", JsonKind.Array, ColumnType.Text);
    static readonly ColumnType IntArray = new("integer[]", JsonKind.Array, new ColumnType("integer", JsonKind.Number));

    public static TheoryData<string, string, string> Renderings() => new()
    {
        { "integer", "42", "42" },
        { "integer", "-7", "-7" },
        { "numeric", "1.50", "1.50" },
        { "numeric", "NaN", "\"NaN\"" },
        { "numeric", "Infinity", "\"Infinity\"" },
        { "numeric", "-Infinity", "\"-Infinity\"" },
        { "numeric", "1e+20", "1e+20" },
        { "numeric", "1.5e-07", "1.5e-07" },
        { "numeric", "-0", "-0" },
        { "boolean", "t", "true" },
        { "boolean", "f", "false" },
        { "date", "2026-03-01", "\"2026-03-01\"" },
        { "date", "0044-03-15 BC", "\"0044-03-15 BC\"" },
        { "date", "infinity", "\"infinity\"" },
        { "timestamp", "2026-03-01 12:00:00.5", "\"2026-03-01T12:00:00.5\"" },
        { "timestamp", "10000-01-01 00:00:00", "\"10000-01-01T00:00:00\"" },
        { "timestamp", "-infinity", "\"-infinity\"" },
        { "timestamptz", "2026-03-01 06:30:00.5+00", "\"2026-03-01T06:30:00.5+00:00\"" },
        { "timestamptz", "0044-03-15 12:00:00+00 BC", "\"0044-03-15T12:00:00+00:00 BC\"" },
        { "timestamptz", "infinity", "\"infinity\"" },
        { "jsonb", """{"a": [1, {"b": null}]}""", """{"a":[1,{"b":null}]}""" },
        { "text[]", "{a,\"b c\",NULL,\"NULL\",\"\"}", """["a","b c",null,"NULL",""]""" },
        { "text[]", "[2:3]={a,NULL}", """["a",null]""" },
        { "text[]", "{\"a\\\\b\",\"c\\\"d\",\"{x,y}\"}", """["a\\b","c\"d","{x,y}"]""" },
        { "text[]", "{}", "[]" },
        // a regression case of the array property: Unicode spaces are not array_out's spaces, they are kept
        { "text[]", "{\u00a0a\u2028}", "[\"\\u00A0a\\u2028\"]" },
        { "integer[]", "{{1,2},{3,NULL}}", "[[1,2],[3,null]]" },
    };

    static ColumnType Type(string name) => name switch
    {
        "integer" or "numeric" => Number,
        "boolean" => Boolean,
        "date" => Date,
        "timestamp" => Timestamp,
        "timestamptz" => TimestampTz,
        "jsonb" => Json,
        "text[]" => TextArray,
        "integer[]" => IntArray,
        _ => ColumnType.Text,
    };

    [Theory]
    [MemberData(nameof(Renderings))]
    public void A_text_value_renders_as_to_jsonb_renders_the_value(string type, string text, string json) =>
        Assert.Equal(json, TextAsJson.Render(text, Type(type)));

    [Theory]
    [InlineData("0", true)]
    [InlineData("-0.5", true)]
    [InlineData("1E5", true)]
    [InlineData("12.", false)]
    [InlineData(".5", false)]
    [InlineData("01", false)]
    [InlineData("NaN", false)]
    [InlineData("-", false)]
    [InlineData("1e", false)]
    public void Only_json_numbers_stay_numbers(string text, bool number) =>
        Assert.Equal(number, TextAsJson.IsJsonNumber(text));

    [Fact]
    public void A_timestamp_with_time_zone_outside_utc_is_refused_rather_than_published_differently() =>
        Assert.Throws<JsonException>(() => TextAsJson.Render("2026-03-01 12:00:00+05:30", TimestampTz));

    [Fact]
    public void A_malformed_array_is_refused_as_not_json() =>
        Assert.Throws<JsonException>(() => TextAsJson.Render("{a,b", TextArray));

    /// <summary>PostgreSQL's array_out: an element is quoted when empty, NULL-like, or holding a delimiter, brace, quote, backslash or space.</summary>
    static string ArrayOut(string?[] elements)
    {
        var text = new StringBuilder("{");
        for (var i = 0; i < elements.Length; i++)
        {
            if (i > 0)
            {
                text.Append(',');
            }

            var e = elements[i];
            if (e is null)
            {
                text.Append("NULL");
            }
            else if (e.Length == 0 || e.Equals("NULL", StringComparison.OrdinalIgnoreCase) || e.Any(c => c is '{' or '}' or ',' or '"' or '\\' or ' ' or '\t' or '\n' or '\r' or '\v' or '\f'))
            {
                text.Append('"').Append(e.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)).Append('"');
            }
            else
            {
                text.Append(e);
            }
        }

        return text.Append('}').ToString();
    }

    [Fact]
    public void Any_text_array_in_postgresql_s_text_form_renders_as_its_elements()
    {
        var element = Gen.OneOf(
            Gen.Constant<string?>(null),
            Gen.Elements<string?>("", "NULL", "null", " ", "a,b", "{}", "\"", "\\", "Zoë 📞", "x y"),
            ArbMap.Default.GeneratorFor<NonNull<string>>().Select(s => (string?)s.Get.Replace("\0", "", StringComparison.Ordinal)));
        var property = Prop.ForAll(element.ArrayOf().ToArbitrary(), elements =>
        {
            var rendered = JsonSerializer.Deserialize<string?[]>(TextAsJson.Render(ArrayOut(elements), TextArray));
            return rendered is not null && rendered.SequenceEqual(elements);
        });

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(500), property);
    }
}
