using System.Text;
using System.Text.Json;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.Sync.ApplyContactChanges;
using Xunit;

namespace CampaignEvents.UnitTests.Sync;

/// <summary>The one-pass reader of message bodies gives what the field-by-field reader gives, or leaves the message to it.</summary>
public sealed class ContactEventFastReaderTests
{
    const string Campaign = "0b9a1c1e-0000-4000-8000-000000000002";
    const string Change = """{"eventId":"0b9a1c1e-0000-4000-8000-000000000001","campaignId":"0b9a1c1e-0000-4000-8000-000000000002","phoneNumber":"+12015550123","version":3,"occurredAt":"2026-01-01T00:00:00Z","metadata":{"a":1,"name":"Émilie \u00e9","nested":{"b":[1,2,{"c":null}]}}}""";
    const string Delete = """{"eventId":"0b9a1c1e-0000-4000-8000-000000000003","campaignId":"0b9a1c1e-0000-4000-8000-000000000002","phoneNumber":"+447400123456","version":4,"occurredAt":"2026-01-01T00:00:01Z"}""";

    static string Batch(string changes, string deletes) =>
        $$"""{"batchId":"0b9a1c1e-0000-4000-8000-000000000009","changes":[{{changes}}],"deletes":[{{deletes}}]}""";

    public static TheoryData<string, string> Bodies() => new()
    {
        // written as the contract shows: read in one pass
        { Topology.ContactChangedExchange, Change },
        { Topology.ContactDeletedExchange, Delete },
        { Topology.ContactChangeBatchExchange, Batch($"{Change},{Change.Replace("\"version\":3", "\"version\":5", StringComparison.Ordinal)}", Delete) },
        { Topology.ContactChangeBatchExchange, $$"""{"deletes":[{{Delete}}],"batchId":"0b9a1c1e-0000-4000-8000-000000000009","changes":[{{Change}}]}""" },
        { Topology.ContactChangeBatchExchange, """{"batchId":"0b9a1c1e-0000-4000-8000-000000000009","changes":[],"deletes":null}""" },
        { Topology.ContactDeletedExchange, Delete.Replace("}", ",\"metadata\":null}", StringComparison.Ordinal) },
        { Topology.ContactChangedExchange, Change.Replace("{\"eventId\"", " { \"extra\" : [1, {\"x\":2}] , \"eventId\"", StringComparison.Ordinal) + "  " },
        { Topology.ContactChangedExchange, Change.Replace("+12015550123", "\\u002B12015550123", StringComparison.Ordinal) },

        // read by the field-by-field reader: other casings, repeated names, comments, a replay without exchange
        { Topology.ContactChangedExchange, Change.Replace("\"phoneNumber\"", "\"PhoneNumber\"", StringComparison.Ordinal) },
        { Topology.ContactChangedExchange, Change.Replace("\"version\":3", "\"version\":2,\"version\":3", StringComparison.Ordinal) },
        { Topology.ContactChangedExchange, Change.Replace("{\"eventId\"", "{/* note */\"eventId\"", StringComparison.Ordinal) },
        { "", Change },
        { "", Batch(Change, Delete) },

        // invalid: the same reason either way
        { Topology.ContactChangedExchange, Change.Replace("+12015550123", "+1201", StringComparison.Ordinal) },
        { Topology.ContactChangedExchange, Change.Replace("+12015550123", "12015550123", StringComparison.Ordinal) },
        { Topology.ContactChangedExchange, Change.Replace("+12015550123", "+1201555\\uD8000123", StringComparison.Ordinal) },
        { Topology.ContactChangeBatchExchange, Batch(Change.Replace("\"name\"", "\"n\\uD800\"", StringComparison.Ordinal), Delete) },
        { Topology.ContactChangedExchange, Change.Replace("\"version\":3", "\"version\":-1", StringComparison.Ordinal) },
        { Topology.ContactChangedExchange, Change.Replace("\"version\":3", "\"version\":3.0", StringComparison.Ordinal) },
        { Topology.ContactChangedExchange, Change.Replace("\"version\":3", "\"version\":\"3\"", StringComparison.Ordinal) },
        { Topology.ContactChangedExchange, Change.Replace("\"eventId\":\"0b9a1c1e-0000-4000-8000-000000000001\",", "", StringComparison.Ordinal) },
        { Topology.ContactChangedExchange, Change.Replace("\"occurredAt\":\"2026-01-01T00:00:00Z\"", "\"occurredAt\":\"yesterday\"", StringComparison.Ordinal) },
        { Topology.ContactChangedExchange, Change.Replace("{\"a\":1,", "{\"z\":\"\\u0000\",\"a\":1,", StringComparison.Ordinal) },
        { Topology.ContactChangedExchange, Change.Replace("\"metadata\":{", "\"metadata\":null,\"m\":{", StringComparison.Ordinal) },
        { Topology.ContactChangedExchange, Delete },
        { Topology.ContactDeletedExchange, Change },
        { Topology.ContactChangeBatchExchange, Batch($"{Change},{Change.Replace("+12015550123", "bad", StringComparison.Ordinal)}", "3") },
        { Topology.ContactChangeBatchExchange, """{"changes":[]}""" },
        { Topology.ContactChangeBatchExchange, """{"batchId":"0b9a1c1e-0000-4000-8000-000000000009","changes":{}}""" },

        // what PostgreSQL jsonb stores and refuses: a backslash followed by u0000 is text; a NUL or an unpaired surrogate is not
        { Topology.ContactChangedExchange, Change.Replace("{\"a\":1,", "{\"z\":\"\\\\u0000\",\"a\":1,", StringComparison.Ordinal) },
        { Topology.ContactChangedExchange, Change.Replace("{\"a\":1,", "{\"z\\\\u0000\":\"\\\\\\\\u0000\\\\ud800\",\"a\":1,", StringComparison.Ordinal) },
        { Topology.ContactChangedExchange, Change.Replace("{\"a\":1,", "{\"z\":\"\\\\\\u0000\",\"a\":1,", StringComparison.Ordinal) },
        { Topology.ContactChangedExchange, Change.Replace("{\"a\":1,", "{\"z\":\"\\ud83d\\ude00\",\"a\":1,", StringComparison.Ordinal) },
        { Topology.ContactChangedExchange, Change.Replace("{\"a\":1,", "{\"z\":\"\\ud800\",\"a\":1,", StringComparison.Ordinal) },
        { Topology.ContactChangedExchange, Change.Replace("{\"a\":1,", "{\"z\":\"\\udc00\\ud800\",\"a\":1,", StringComparison.Ordinal) },
        { Topology.ContactChangeBatchExchange, Batch($"{Change},{Change.Replace("{\"a\":1,", "{\"\\u0000\":1,", StringComparison.Ordinal)}", Delete) },
        { Topology.ContactChangedExchange, Change.Replace("{\"a\":1,", "{\"a\":1,/* note */", StringComparison.Ordinal) },
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public void A_body_reads_as_the_field_by_field_reader_reads_it(string exchange, string json)
    {
        var expected = Outcome(() => Slow(exchange, json, 60));
        var actual = Outcome(() => ContactEventReader.ReadBody(exchange, Encoding.UTF8.GetBytes(json), 60));
        Assert.Equal(expected, actual);
    }

    [Theory]
    [InlineData(Topology.ContactChangedExchange, Change)]
    [InlineData(Topology.ContactDeletedExchange, Delete)]
    public void A_message_written_as_the_contract_shows_is_read_in_one_pass(string exchange, string json) =>
        Assert.NotNull(ContactEventFastReader.TryRead(exchange, Encoding.UTF8.GetBytes(json), 65_536));

    [Fact]
    public void A_batch_written_as_the_contract_shows_is_read_in_one_pass_changes_first() =>
        Assert.Equal(
            [false, false, true],
            ContactEventFastReader.TryRead(Topology.ContactChangeBatchExchange, Encoding.UTF8.GetBytes(Batch($"{Change},{Change}", Delete)), 65_536)!.Changes.Select(c => c.IsDelete));

    [Fact]
    public void A_batch_as_the_source_adapter_publishes_it_is_read_in_one_pass()
    {
        // the adapter's batches are serialized by MassTransit's raw JSON serializer: they must not fall back to the slow reader
        var batch = new CampaignEvents.Contracts.ContactChangeBatch
        {
            BatchId = Guid.NewGuid(),
            Changes = [new CampaignEvents.Contracts.ContactChanged
            {
                EventId = Guid.NewGuid(),
                CampaignId = Guid.Parse(Campaign),
                PhoneNumber = "+12015550123",
                Metadata = JsonDocument.Parse("""{"name":"Zoë 📞","n":1}""").RootElement,
                Version = 7L << 16,
                OccurredAt = DateTimeOffset.UtcNow,
            }],
            Deletes = [new CampaignEvents.Contracts.ContactDeleted
            {
                EventId = Guid.NewGuid(),
                CampaignId = Guid.Parse(Campaign),
                PhoneNumber = "+447400123456",
                Version = 8L << 16,
                OccurredAt = DateTimeOffset.UtcNow,
            }],
        };
        var body = JsonSerializer.SerializeToUtf8Bytes(batch, MassTransit.Serialization.SystemTextJsonMessageSerializer.Options);

        var read = ContactEventFastReader.TryRead(Topology.ContactChangeBatchExchange, body, 65_536);

        Assert.NotNull(read);
        Assert.Equal([false, true], read.Changes.Select(c => c.IsDelete));
    }

    [Fact]
    public void Metadata_above_the_limit_is_left_to_the_field_by_field_reader()
    {
        Assert.Null(ContactEventFastReader.TryRead(Topology.ContactChangedExchange, Encoding.UTF8.GetBytes(Change), 10));
        var error = Assert.Throws<InvalidContactEventException>(() => ContactEventReader.ReadBody(Topology.ContactChangedExchange, Encoding.UTF8.GetBytes(Change), 10));
        Assert.Contains("above the limit of 10", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"metadata\":{\"a\":1,\"name\":\"", new byte[] { 0xff })]
    [InlineData("\"metadata\":{\"a\":1,\"name\":\"", new byte[] { 0xc3, 0x28 })]
    [InlineData("\"metadata\":{\"a\":1,\"", new byte[] { 0xed, 0xa0, 0x80 })]
    [InlineData("{\"eventId\":\"0b9a1c1e-0000-4000-8000-000000000001\",", new byte[] { 0x22, 0x6e, 0xe0, 0x22, 0x3a, 0x31, 0x2c })]
    public void Bytes_that_are_not_UTF8_are_refused_by_both_readers_never_replaced(string before, byte[] bad)
    {
        var text = Encoding.UTF8.GetBytes(Change);
        var at = Encoding.UTF8.GetByteCount(Change[..(Change.IndexOf(before, StringComparison.Ordinal) + before.Length)]);
        byte[] body = [.. text[..at], .. bad, .. text[at..]];
        var firstBad = at + bad.TakeWhile(b => b < 0x80).Count();

        Assert.Null(ContactEventFastReader.TryRead(Topology.ContactChangedExchange, body, 65_536));
        var error = Assert.Throws<InvalidContactEventException>(() => ContactEventReader.ReadBody(Topology.ContactChangedExchange, body, 65_536));
        Assert.Equal($"the body is not valid UTF-8 at byte {firstBad}", error.Message);
    }

    [Fact]
    public void A_backslash_followed_by_u0000_in_metadata_is_read_in_one_pass_as_written()
    {
        var json = Change.Replace("{\"a\":1,", "{\"z\":\"\\\\u0000\",\"a\":1,", StringComparison.Ordinal);

        var read = ContactEventFastReader.TryRead(Topology.ContactChangedExchange, Encoding.UTF8.GetBytes(json), 65_536);

        Assert.NotNull(read);
        Assert.StartsWith("{\"z\":\"\\\\u0000\",", Assert.Single(read.Changes).Metadata, StringComparison.Ordinal);
    }

    static ContactEvent Slow(string exchange, string json, int max)
    {
        using var document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        var fields = new Dictionary<string, JsonElement>();
        foreach (var property in document.RootElement.EnumerateObject())
        {
            fields[property.Name] = property.Value.Clone();
        }

        return ContactEventReader.Read(ContactEventReader.KindOf(exchange, fields), fields, max);
    }

    static string Outcome(Func<ContactEvent> read)
    {
        try
        {
            var result = read();
            return $"{result.Kind}: " + string.Join(" | ", result.Changes.Select(c => $"{c.CampaignId} {c.PhoneNumber} {c.Version} {c.Metadata ?? "(delete)"}"));
        }
        catch (Exception e) when (e is InvalidContactEventException or InvalidOperationException)
        {
            return $"{e.GetType().Name}: {e.Message}";
        }
    }

    [Fact]
    public void The_campaign_is_read()
    {
        var read = ContactEventReader.ReadBody(Topology.ContactChangedExchange, Encoding.UTF8.GetBytes(Change), 65_536);
        Assert.Equal(Guid.Parse(Campaign), Assert.Single(read.Changes).CampaignId);
    }

    [Fact]
    public void Both_readers_keep_each_events_occurredAt_for_the_end_to_end_latency()
    {
        var later = Delete.Replace("2026-01-01T00:00:01Z", "2026-01-01T02:00:05+02:00", StringComparison.Ordinal);
        var body = Encoding.UTF8.GetBytes(Batch(Change, later));
        var fast = ContactEventReader.ReadBody(Topology.ContactChangeBatchExchange, body, 65_536);
        // no exchange: the field-by-field reader
        var slow = ContactEventReader.ReadBody("", body, 65_536);

        DateTimeOffset[] expected = [new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), new(2026, 1, 1, 0, 0, 5, TimeSpan.Zero)];
        Assert.Equal(expected, fast.Changes.Select(c => c.OccurredAt));
        Assert.Equal(expected, slow.Changes.Select(c => c.OccurredAt));
    }
}

public sealed class ContactWireTests
{
    [Fact]
    public void A_body_that_is_not_an_object_is_not_a_contact_event() =>
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<ContactWire>("[1,2]"));

    [Fact]
    public void Written_again_it_is_the_body_it_came_with()
    {
        const string body = """{"eventId":"x","metadata":{"a":[1,2]}}""";
        Assert.Equal(body, JsonSerializer.Serialize(new ContactWire { Body = Encoding.UTF8.GetBytes(body) }));
        Assert.Equal("{}", JsonSerializer.Serialize(JsonSerializer.Deserialize<ContactWire>(body)));
    }
}
