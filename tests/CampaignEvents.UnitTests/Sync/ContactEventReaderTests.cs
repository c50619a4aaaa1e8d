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
}
