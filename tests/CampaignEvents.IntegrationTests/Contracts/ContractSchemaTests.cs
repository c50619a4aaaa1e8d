using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.Sync.ApplyContactChanges;
using CampaignEvents.TestSupport;
using Json.Schema;
using Xunit;

namespace CampaignEvents.IntegrationTests.Contracts;

/// <summary>
/// contracts/schemas/*.schema.json describe what the consumer accepts: the README's examples are
/// valid, and on each kind of bad input the schema and the consumer's reader
/// (<see cref="ContactEventReader.ReadBody"/>) decide alike, or the case names the documented
/// difference (the schema checks shapes; the reader also checks what only code can).
/// </summary>
public sealed partial class ContractSchemaTests
{
    const int MaxMetadataBytes = 65_536;

    [GeneratedRegex(@"<!-- example:(?<name>[a-z-]+) -->\s*```json\n(?<json>.*?)\n```", RegexOptions.Singleline)]
    private static partial Regex Example();

    static readonly Lazy<IReadOnlyDictionary<string, JsonSchema>> Schemas = new(Load);

    /// <summary>Each schema by its exchange; built in one registry so the batch's $ref to the item schemas resolves offline.</summary>
    static IReadOnlyDictionary<string, JsonSchema> Load()
    {
        var options = new BuildOptions { SchemaRegistry = new SchemaRegistry() };
        var schemas = new Dictionary<string, JsonSchema>();
        foreach (var name in new[] { Topology.ContactChangedExchange, Topology.ContactDeletedExchange, Topology.CampaignChangedExchange, Topology.ContactChangeBatchExchange })
        {
            schemas[name] = JsonSchema.FromFile(Repository.PathOf($"contracts/schemas/{name}.schema.json"), options);
        }

        return schemas;
    }

    static bool SchemaAccepts(string exchange, string json)
    {
        using var document = JsonDocument.Parse(json);
        return Schemas.Value[exchange].Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true }).IsValid;
    }

    static bool ReaderAccepts(string exchange, string json)
    {
        try
        {
            ContactEventReader.ReadBody(exchange, Encoding.UTF8.GetBytes(json), MaxMetadataBytes);
            return true;
        }
        catch (InvalidContactEventException)
        {
            return false;
        }
    }

    [Fact]
    public void There_is_one_schema_per_contract_exchange_and_each_is_draft_2020_12()
    {
        var files = Directory.GetFiles(Repository.PathOf("contracts/schemas"), "*.schema.json").Select(Path.GetFileName).Order();
        Assert.Equal(Topology.ContractExchanges.Select(e => $"{e}.schema.json").Order(), files);
        foreach (var exchange in Topology.ContractExchanges)
        {
            using var schema = JsonDocument.Parse(File.ReadAllText(Repository.PathOf($"contracts/schemas/{exchange}.schema.json")));
            Assert.Equal("https://json-schema.org/draft/2020-12/schema", schema.RootElement.GetProperty("$schema").GetString());
        }
    }

    [Fact]
    public void The_README_examples_validate_against_the_schemas()
    {
        var readme = File.ReadAllText(Repository.PathOf("README.md"));
        var examples = Example().Matches(readme).ToDictionary(m => m.Groups["name"].Value, m => m.Groups["json"].Value);
        Assert.Equal(Topology.ContractExchanges.Order(), examples.Keys.Order());
        foreach (var (exchange, json) in examples)
        {
            using var document = JsonDocument.Parse(json);
            var result = Schemas.Value[exchange].Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });
            Assert.True(result.IsValid, $"README example {exchange} does not validate: {JsonSerializer.Serialize(result)}");
        }
    }

    /// <summary>The difference between the schema and the reader a case shows, when there is one (documented in the schema's descriptions).</summary>
    public enum Difference
    {
        None,

        /// <summary>The schema accepts what only code can refuse.</summary>
        OnlySchemaAccepts,

        /// <summary>The reader is more lenient than the contract's shape.</summary>
        OnlyReaderAccepts,
    }

    const string Campaign = "3b9ac9ff-1c2d-4e5f-8a7b-6c5d4e3f2a1b";

    static string Changed(string? eventId = "6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f", string phone = "\"+12015550123\"", string version = "42", string metadata = "{\"name\":\"Ada\"}", string occurredAt = "\"2026-03-01T12:00:00Z\"", string campaign = $"\"{Campaign}\"", string extra = "")
    {
        var fields = new List<string>();
        if (eventId is not null)
        {
            fields.Add($"\"eventId\":\"{eventId}\"");
        }

        fields.Add($"\"campaignId\":{campaign}");
        fields.Add($"\"phoneNumber\":{phone}");
        fields.Add($"\"version\":{version}");
        fields.Add($"\"occurredAt\":{occurredAt}");
        if (metadata.Length > 0)
        {
            fields.Add($"\"metadata\":{metadata}");
        }

        if (extra.Length > 0)
        {
            fields.Add(extra);
        }

        return "{" + string.Join(",", fields) + "}";
    }

    static string Deleted(string extra = "") =>
        $"{{\"eventId\":\"7a2d3e4f-5b6c-4d7e-8f90-1a2b3c4d5e6f\",\"campaignId\":\"{Campaign}\",\"phoneNumber\":\"+447400123456\",\"version\":43,\"occurredAt\":\"2026-03-01T12:00:01Z\"{extra}}}";

    /// <summary>Every kind of bad input: (exchange, body, schema and reader both accept?, difference).</summary>
    static readonly Dictionary<string, (string Exchange, string Json, bool Valid, Difference Difference)> Cases = new()
    {
        ["a valid change"] = (Topology.ContactChangedExchange, Changed(), true, Difference.None),
        ["a valid change with an unknown property (contracts evolve additively)"] = (Topology.ContactChangedExchange, Changed(extra: "\"source\":\"crm\""), true, Difference.None),
        ["missing eventId"] = (Topology.ContactChangedExchange, Changed(eventId: null), false, Difference.None),
        ["missing metadata"] = (Topology.ContactChangedExchange, Changed(metadata: ""), false, Difference.None),
        ["version as a string"] = (Topology.ContactChangedExchange, Changed(version: "\"42\""), false, Difference.None),
        ["version with a fraction"] = (Topology.ContactChangedExchange, Changed(version: "1.5"), false, Difference.None),
        ["negative version"] = (Topology.ContactChangedExchange, Changed(version: "-1"), false, Difference.None),
        ["version beyond 64 bits"] = (Topology.ContactChangedExchange, Changed(version: "9223372036854775808"), false, Difference.None),
        ["phone without +"] = (Topology.ContactChangedExchange, Changed(phone: "\"12015550123\""), false, Difference.None),
        ["phone with spaces"] = (Topology.ContactChangedExchange, Changed(phone: "\"+1 201 555 0123\""), false, Difference.None),
        ["phone with letters"] = (Topology.ContactChangedExchange, Changed(phone: "\"+1201555CALL\""), false, Difference.None),
        ["phone as a number"] = (Topology.ContactChangedExchange, Changed(phone: "12015550123"), false, Difference.None),
        ["metadata an array"] = (Topology.ContactChangedExchange, Changed(metadata: "[1,2]"), false, Difference.None),
        ["metadata a string"] = (Topology.ContactChangedExchange, Changed(metadata: "\"vip\""), false, Difference.None),
        ["metadata null"] = (Topology.ContactChangedExchange, Changed(metadata: "null"), false, Difference.None),
        ["campaignId not a UUID"] = (Topology.ContactChangedExchange, Changed(campaign: "\"campaign-7\""), false, Difference.None),
        ["campaignId a number"] = (Topology.ContactChangedExchange, Changed(campaign: "7"), false, Difference.None),
        ["occurredAt not a date"] = (Topology.ContactChangedExchange, Changed(occurredAt: "\"yesterday\""), false, Difference.None),
        ["occurredAt a number"] = (Topology.ContactChangedExchange, Changed(occurredAt: "1767225600"), false, Difference.None),
        ["body an array"] = (Topology.ContactChangedExchange, $"[{Changed()}]", false, Difference.None),
        ["a valid delete"] = (Topology.ContactDeletedExchange, Deleted(), true, Difference.None),
        ["a delete with metadata null"] = (Topology.ContactDeletedExchange, Deleted(",\"metadata\":null"), true, Difference.None),
        ["a delete with metadata (a change sent to the wrong exchange)"] = (Topology.ContactDeletedExchange, Deleted(",\"metadata\":{}"), false, Difference.None),
        ["a valid batch"] = (Topology.ContactChangeBatchExchange, $"{{\"batchId\":\"8b3e4f50-6c7d-4e8f-9a01-2b3c4d5e6f70\",\"changes\":[{Changed()}],\"deletes\":[{Deleted()}]}}", true, Difference.None),
        ["an empty batch"] = (Topology.ContactChangeBatchExchange, "{\"batchId\":\"8b3e4f50-6c7d-4e8f-9a01-2b3c4d5e6f70\"}", true, Difference.None),
        ["a batch without batchId"] = (Topology.ContactChangeBatchExchange, $"{{\"changes\":[{Changed()}]}}", false, Difference.None),
        ["a batch whose changes is an object"] = (Topology.ContactChangeBatchExchange, $"{{\"batchId\":\"8b3e4f50-6c7d-4e8f-9a01-2b3c4d5e6f70\",\"changes\":{Changed()}}}", false, Difference.None),
        ["a batch with one invalid item"] = (Topology.ContactChangeBatchExchange, $"{{\"batchId\":\"8b3e4f50-6c7d-4e8f-9a01-2b3c4d5e6f70\",\"changes\":[{Changed()},{Changed(version: "-3")}]}}", false, Difference.None),
        ["a batch with an invalid delete"] = (Topology.ContactChangeBatchExchange, $"{{\"batchId\":\"8b3e4f50-6c7d-4e8f-9a01-2b3c4d5e6f70\",\"deletes\":[{Deleted(",\"metadata\":{}")}]}}", false, Difference.None),

        // documented differences: the schema checks shapes, libphonenumber and the database's limits are code
        ["phone well formed but not a number anyone can dial"] = (Topology.ContactChangedExchange, Changed(phone: "\"+10000000000\""), false, Difference.OnlySchemaAccepts),
        ["metadata above Sync:MaxMetadataBytes"] = (Topology.ContactChangedExchange, Changed(metadata: $"{{\"notes\":\"{new string('x', MaxMetadataBytes)}\"}}"), false, Difference.OnlySchemaAccepts),
        ["metadata with \\u0000, which jsonb cannot store"] = (Topology.ContactChangedExchange, Changed(metadata: "{\"name\":\"a\\u0000b\"}"), false, Difference.OnlySchemaAccepts),

        // documented differences: the reader is as lenient as System.Text.Json; publishers should follow the schema
        ["property names in another casing"] = (Topology.ContactChangedExchange, Changed().Replace("\"eventId\"", "\"EventId\"", StringComparison.Ordinal), true, Difference.OnlyReaderAccepts),
        ["a UUID without hyphens"] = (Topology.ContactChangedExchange, Changed(eventId: "6f1c2d3e4b5a4c6d8e7f0a1b2c3d4e5f"), true, Difference.OnlyReaderAccepts),
        ["a batch whose changes is null"] = (Topology.ContactChangeBatchExchange, "{\"batchId\":\"8b3e4f50-6c7d-4e8f-9a01-2b3c4d5e6f70\",\"changes\":null}", true, Difference.OnlyReaderAccepts),
    };

    public static TheoryData<string> CaseNames() => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void The_schema_and_the_consumer_decide_alike_or_the_difference_is_named(string name)
    {
        var (exchange, json, valid, difference) = Cases[name];
        var schema = SchemaAccepts(exchange, json);
        var reader = ReaderAccepts(exchange, json);
        switch (difference)
        {
            case Difference.None:
                Assert.True(schema == valid && reader == valid, $"{name}: expected both to {(valid ? "accept" : "reject")}; schema accepts: {schema}, reader accepts: {reader}\n{json}");
                break;
            case Difference.OnlySchemaAccepts:
                Assert.True(schema && !reader, $"{name}: expected the schema to accept and the reader to reject; schema: {schema}, reader: {reader}");
                break;
            case Difference.OnlyReaderAccepts:
                Assert.True(reader && !schema, $"{name}: expected the reader to accept and the schema to reject; schema: {schema}, reader: {reader}");
                break;
        }
    }

    [Fact]
    public void A_CampaignChanged_missing_a_field_or_with_a_negative_version_does_not_validate()
    {
        const string valid = """{"eventId":"be617283-9fa0-4b12-8d34-5e6f708192a3","id":"3b9ac9ff-1c2d-4e5f-8a7b-6c5d4e3f2a1b","name":"n","type":"voice","status":"active","config":{},"version":41,"occurredAt":"2026-03-01T11:59:00Z"}""";
        Assert.True(SchemaAccepts(Topology.CampaignChangedExchange, valid));
        Assert.False(SchemaAccepts(Topology.CampaignChangedExchange, valid.Replace("\"name\":\"n\",", "", StringComparison.Ordinal)));
        Assert.False(SchemaAccepts(Topology.CampaignChangedExchange, valid.Replace("\"version\":41", "\"version\":-41", StringComparison.Ordinal)));
        Assert.False(SchemaAccepts(Topology.CampaignChangedExchange, valid.Replace("\"config\":{}", "\"config\":[]", StringComparison.Ordinal)));
    }
}
