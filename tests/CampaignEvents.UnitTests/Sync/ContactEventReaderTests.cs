using System.Text.Json;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.Sync.ApplyContactChanges;
using Xunit;

namespace CampaignEvents.UnitTests.Sync;

public sealed class ContactEventReaderTests
{
    static Dictionary<string, JsonElement> Fields(string json) =>
        JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json)!;

    const string Change = """{"eventId":"0b9a1c1e-0000-4000-8000-000000000001","campaignId":"0b9a1c1e-0000-4000-8000-000000000002","phoneNumber":"+12015550123","version":3,"occurredAt":"2026-01-01T00:00:00Z","metadata":{"a":1}}""";

    [Theory]
    [InlineData(Topology.ContactChangedExchange, ContactEventKind.Changed)]
    [InlineData(Topology.ContactDeletedExchange, ContactEventKind.Deleted)]
    [InlineData(Topology.ContactChangeBatchExchange, ContactEventKind.Batch)]
    public void The_exchange_decides_the_kind(string exchange, ContactEventKind kind) =>
        Assert.Equal(kind, ContactEventReader.KindOf(exchange, Fields(Change)));

    [Fact]
    public void Without_an_exchange_the_shape_decides_the_kind()
    {
        Assert.Equal(ContactEventKind.Changed, ContactEventReader.KindOf("", Fields(Change)));
        Assert.Equal(ContactEventKind.Deleted, ContactEventReader.KindOf("", Fields(Change.Replace(""","metadata":{"a":1}""", "", StringComparison.Ordinal))));
        Assert.Equal(ContactEventKind.Batch, ContactEventReader.KindOf("", Fields("""{"batchId":"0b9a1c1e-0000-4000-8000-000000000001","changes":[]}""")));
    }

    [Theory]
    [InlineData("\"version\":3", "\"version\":3.5", "version must be a whole number")]
    [InlineData("\"version\":3", "\"version\":-3", "version must not be negative")]
    [InlineData("\"metadata\":{\"a\":1}", "\"metadata\":\"text\"", "metadata must be a JSON object")]
    [InlineData("\"phoneNumber\":\"+12015550123\"", "\"phoneNumber\":\"+1 201 555 0123\"", "not in E.164")]
    [InlineData("\"campaignId\":\"0b9a1c1e-0000-4000-8000-000000000002\",", "", "campaignId is missing")]
    [InlineData("\"occurredAt\":\"2026-01-01T00:00:00Z\"", "\"occurredAt\":17", "occurredAt must be")]
    public void An_invalid_change_is_refused_with_its_reason(string replace, string with, string reason)
    {
        var error = Assert.Throws<InvalidContactEventException>(() =>
            ContactEventReader.Read(ContactEventKind.Changed, Fields(Change.Replace(replace, with, StringComparison.Ordinal)), 65_536));
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Metadata_above_the_limit_is_refused()
    {
        var error = Assert.Throws<InvalidContactEventException>(() => ContactEventReader.Read(ContactEventKind.Changed, Fields(Change), 4));
        Assert.Contains("above the limit of 4", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_batch_with_one_invalid_item_is_refused_whole_and_names_the_item()
    {
        var batch = $$"""{"batchId":"0b9a1c1e-0000-4000-8000-000000000009","changes":[{{Change}},{{Change.Replace("+12015550123", "555", StringComparison.Ordinal)}}]}""";
        var error = Assert.Throws<InvalidContactEventException>(() => ContactEventReader.Read(ContactEventKind.Batch, Fields(batch), 65_536));
        Assert.Contains("changes[1].", error.Message, StringComparison.Ordinal);
        Assert.Contains("none of its 2 items applied", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"k":"\\u0000"}""")]
    [InlineData("""{"k\\u0000":"\\\\u0000 \\\\\\\\u0000"}""")]
    [InlineData("""{"k":"\\ud800","pair":"\ud83d\ude00"}""")]
    public void A_backslash_followed_by_u0000_is_text_and_is_kept_as_written(string metadata)
    {
        var read = ContactEventReader.Read(ContactEventKind.Changed, Fields(Change.Replace("""{"a":1}""", metadata, StringComparison.Ordinal)), 65_536);
        Assert.Equal(metadata, Assert.Single(read.Changes).Metadata);
    }

    [Theory]
    [InlineData("""{"k":"\u0000"}""", "metadata contains a NUL character (\\u0000), which PostgreSQL jsonb cannot store")]
    [InlineData("""{"k\u0000":1}""", "metadata contains a NUL character")]
    [InlineData("""{"k":"\\\u0000"}""", "metadata contains a NUL character")]
    [InlineData("""{"k":"a\ud800b"}""", "metadata contains an unpaired surrogate (\\ud800), which PostgreSQL jsonb cannot store")]
    [InlineData("""{"k":"\uDC00"}""", "metadata contains an unpaired surrogate (\\udc00)")]
    [InlineData("""{"\ud83d\u0041":1}""", "metadata contains an unpaired surrogate (\\ud83d)")]
    [InlineData("""{"k":"\ude00\ud83d"}""", "metadata contains an unpaired surrogate (\\ude00)")]
    public void Metadata_that_jsonb_cannot_store_is_refused_with_its_reason(string metadata, string reason)
    {
        var error = Assert.Throws<InvalidContactEventException>(() =>
            ContactEventReader.Read(ContactEventKind.Changed, Fields(Change.Replace("""{"a":1}""", metadata, StringComparison.Ordinal)), 65_536));
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"a":1,}""")]
    [InlineData("""{"a":/* note */1}""")]
    public void Metadata_with_a_comment_or_a_trailing_comma_is_refused(string metadata)
    {
        var body = System.Text.Encoding.UTF8.GetBytes(Change.Replace("""{"a":1}""", metadata, StringComparison.Ordinal));
        var error = Assert.Throws<InvalidContactEventException>(() => ContactEventReader.ReadBody(Topology.ContactChangedExchange, body, 65_536));
        Assert.Contains("metadata has a comment or a trailing comma, which PostgreSQL jsonb refuses", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_phone_number_with_an_escaped_unpaired_surrogate_is_refused_with_its_reason()
    {
        var error = Assert.Throws<InvalidContactEventException>(() =>
            ContactEventReader.Read(ContactEventKind.Changed, Fields(Change.Replace("+12015550123", "+1201555\\uD8000123", StringComparison.Ordinal)), 65_536));
        Assert.Contains("phoneNumber is not Unicode text", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"metadata\":{\"a\":\"", 0xff)]
    [InlineData("\"phoneNumber\":\"+1201555", 0xc3)]
    [InlineData("{\"eventId\"", 0x80)]
    public void A_body_that_is_not_valid_UTF8_is_refused_with_the_offset_of_the_first_bad_byte(string before, byte bad)
    {
        var text = System.Text.Encoding.UTF8.GetBytes(Change);
        var at = Change.IndexOf(before, StringComparison.Ordinal) + before.Length;
        byte[] body = [.. text[..at], bad, .. text[at..]];

        var error = Assert.Throws<InvalidContactEventException>(() => ContactEventReader.ReadBody(Topology.ContactChangedExchange, body, 65_536));

        Assert.Equal($"the body is not valid UTF-8 at byte {at}", error.Message);
    }

    [Fact]
    public void An_empty_body_is_refused_as_empty_not_as_a_JSON_syntax_error()
    {
        var e = Assert.Throws<InvalidContactEventException>(() => ContactEventReader.ReadBody(Topology.ContactChangedExchange, ReadOnlyMemory<byte>.Empty, 65536));
        Assert.Equal("the body is empty (0 bytes): a contact event is a JSON object", e.Message);
    }

    [Theory]
    [InlineData(63, null)]
    [InlineData(64, 65)]
    [InlineData(1000, 1001)]
    public void Metadata_nested_beyond_the_reader_limit_is_refused_with_its_depth_and_within_it_is_applied(int levels, int? refusedAt)
    {
        var nested = string.Concat(Enumerable.Repeat("{\"a\":", levels)) + "1" + new string('}', levels);
        var body = System.Text.Encoding.UTF8.GetBytes(Change.Replace("""{"a":1}""", nested, StringComparison.Ordinal));
        if (refusedAt is null)
        {
            Assert.Single(ContactEventReader.ReadBody(Topology.ContactChangedExchange, body, 1 << 20).Changes);
            return;
        }

        var e = Assert.Throws<InvalidContactEventException>(() => ContactEventReader.ReadBody(Topology.ContactChangedExchange, body, 1 << 20));
        Assert.StartsWith($"the body is nested deeper than 64 levels ({refusedAt}), the most this consumer reads", e.Message, StringComparison.Ordinal);
    }
}
