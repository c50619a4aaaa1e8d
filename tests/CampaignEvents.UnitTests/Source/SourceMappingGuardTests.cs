using System.Text.Json;
using CampaignEvents.Contracts;
using CampaignEvents.Source.Configuration;
using CampaignEvents.Source.Mapping;
using CampaignEvents.Sync.ApplyContactChanges;
using FsCheck;
using FsCheck.Fluent;
using MassTransit.Serialization;
using Xunit;

namespace CampaignEvents.UnitTests.Source;

/// <summary>
/// Issue 12, item 5: a row the sync consumer would refuse is rejected at the source, with its
/// reason, instead of being published and refusing its whole batch on every replay.
/// </summary>
public sealed class SourceMappingGuardTests
{
    static readonly SourceMapping Mapping = new(new SourceOptions());
    static readonly Guid Campaign = Guid.Parse("00000000-0000-0000-0000-0000000000c1");

    static MappedContact Row(string metadata, SourceMapping? mapping = null) =>
        (mapping ?? Mapping).MapContact(Campaign.ToString(), "+14155550101", "row-1", metadata);

    static string Nested(int depth) => string.Concat(Enumerable.Repeat("""{"a":""", depth - 1)) + "{}" + new string('}', depth - 1);

    [Fact]
    public void Metadata_larger_than_the_limit_is_rejected_and_metadata_at_the_limit_is_not()
    {
        // in a batch the bus writes {"n":"…"} indented, 25 bytes around the string:
        // "{\n        \"n\": \"…\"\n      }"
        var atLimit = $$"""{"n":"{{new string('x', 65_536 - 25)}}"}""";
        var above = $$"""{"n":"{{new string('x', 65_536 - 24)}}"}""";

        Assert.False(Row(atLimit).Rejected);
        var rejected = Row(above);
        Assert.True(rejected.Rejected);
        Assert.Contains("65537 bytes", rejected.RejectedBecause, StringComparison.Ordinal);
        Assert.Contains("Source:MaxMetadataBytes", rejected.RejectedBecause, StringComparison.Ordinal);
    }

    [Fact]
    public void Metadata_is_measured_as_the_bus_writes_it_not_as_the_source_stores_it()
    {
        // 401 bytes at the source, but the bus writes each element on its own indented line
        var mapping = new SourceMapping(new SourceOptions { MaxMetadataBytes = 1_000 });
        var list = $$"""{"l":[{{string.Join(",", Enumerable.Repeat("1", 195))}}]}""";
        Assert.True(System.Text.Encoding.UTF8.GetByteCount(list) < 1_000);
        Assert.Contains("above the limit of 1000", Row(list, mapping).RejectedBecause, StringComparison.Ordinal);

        // escapes the source needed and the bus does not (jsonb writes no \u escapes, json may)
        var escaped = $$"""{"n":"{{string.Concat(Enumerable.Repeat(@"\u00e9", 400))}}"}""";
        Assert.True(System.Text.Encoding.UTF8.GetByteCount(escaped) > 2_000);
        Assert.False(Row(escaped, mapping).Rejected);
    }

    [Fact]
    public void Metadata_nested_deeper_than_the_limit_is_rejected_with_its_depth()
    {
        Assert.False(Row(Nested(32)).Rejected);
        var deep = Row(Nested(33));
        Assert.True(deep.Rejected);
        Assert.Contains("nested 33 levels deep", deep.RejectedBecause, StringComparison.Ordinal);

        // deeper than System.Text.Json's default limit: named by its depth, not as "not JSON"
        Assert.Contains("nested 100 levels deep", Row(Nested(100)).RejectedBecause, StringComparison.Ordinal);

        // brackets inside strings are not nesting
        Assert.False(Row($$"""{"s":"{{new string('[', 100)}}"}""").Rejected);
    }

    [Fact]
    public void Metadata_that_is_not_an_object_or_holds_a_nul_is_rejected()
    {
        Assert.Contains("not an object", Row("[1,2]").RejectedBecause, StringComparison.Ordinal);
        Assert.Contains("NUL", Row("""{"a":"x\u0000y"}""").RejectedBecause, StringComparison.Ordinal);
        Assert.Contains("not JSON", Row("{").RejectedBecause, StringComparison.Ordinal);
    }

    [Fact]
    public void The_text_check_of_reconciliation_gives_the_adapter_s_reasons()
    {
        Assert.Null(Mapping.MetadataProblem("""{"a": 1}"""));
        Assert.Equal(Row(Nested(40)).RejectedBecause, Mapping.MetadataProblem(Nested(40)));
        Assert.Equal(Row("[]").RejectedBecause, Mapping.MetadataProblem("[]"));
    }

    [Fact]
    public void A_campaign_whose_config_is_too_deep_or_not_an_object_is_rejected_not_thrown()
    {
        var id = Guid.NewGuid().ToString();
        var good = Mapping.MapCampaign(id, "n", "t", "s", """{"retries": {"max": 3}}""");
        Assert.False(good.Rejected);
        Assert.Equal(3, good.Config.GetProperty("retries").GetProperty("max").GetInt32());
        Assert.Equal(JsonValueKind.Object, Mapping.MapCampaign(id, "n", "t", "s", null).Config.ValueKind);

        // 100 levels used to throw out of JsonDocument.Parse and stop capture
        Assert.Contains("config is nested 100 levels deep", Mapping.MapCampaign(id, "n", "t", "s", Nested(100)).RejectedBecause, StringComparison.Ordinal);
        Assert.Contains("config is nested 33 levels deep", Mapping.MapCampaign(id, "n", "t", "s", Nested(33)).RejectedBecause, StringComparison.Ordinal);
        Assert.Contains("not an object", Mapping.MapCampaign(id, "n", "t", "s", "[1]").RejectedBecause, StringComparison.Ordinal);
        Assert.Contains("not JSON", Mapping.MapCampaign(id, "n", "t", "s", "{").RejectedBecause, StringComparison.Ordinal);
        Assert.True(Mapping.MapCampaign("not-a-uuid", "n", "t", "s", "{}").Rejected);
    }

    [Fact]
    public void The_adapter_publishes_exactly_the_metadata_the_consumer_accepts()
    {
        // any text, escaped or not, near a small limit: accepted by the mapping if and only if the
        // consumer accepts the batch the bus writes with it (same limit on both sides)
        const int Limit = 120;
        var mapping = new SourceMapping(new SourceOptions { MaxMetadataBytes = Limit });
        var texts = Gen.Elements("a", "é", "<", "&", "\"", "\\", "\n", "\u0001", "😀", "\u2028", "'", "+", "\u007f")
            .ArrayOf()
            .Select(parts => string.Concat(parts));
        var property = Prop.ForAll(texts.ToArbitrary(), text =>
        {
            var source = JsonSerializer.Serialize(new { note = text });
            var row = Row(source, mapping);
            var batch = new ContactChangeBatch
            {
                BatchId = Guid.NewGuid(),
                Changes =
                [
                    new ContactChanged
                    {
                        EventId = Guid.NewGuid(),
                        CampaignId = Campaign,
                        PhoneNumber = "+14155550101",
                        Metadata = JsonElement.Parse(source),
                        Version = 1,
                        OccurredAt = DateTimeOffset.UnixEpoch,
                    },
                ],
                Deletes = [],
            };
            var wire = JsonSerializer.SerializeToUtf8Bytes(batch, SystemTextJsonMessageSerializer.Options);
            bool consumerAccepts;
            try
            {
                ContactEventReader.ReadBody(null, wire, Limit);
                consumerAccepts = true;
            }
            catch (InvalidContactEventException)
            {
                consumerAccepts = false;
            }

            return (!row.Rejected == consumerAccepts).Label($"{source}: adapter {row.RejectedBecause ?? "accepts"}, consumer {(consumerAccepts ? "accepts" : "refuses")}");
        });

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300), property);
    }
}
