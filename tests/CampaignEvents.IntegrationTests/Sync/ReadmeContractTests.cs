using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.TestSupport;
using CampaignEvents.TestSupport.Generators;
using Xunit;
using static CampaignEvents.IntegrationTests.Sync.SyncHarness;

namespace CampaignEvents.IntegrationTests.Sync;

/// <summary>The JSON examples of README.md, published exactly as written, as another language would.</summary>
public sealed partial class ReadmeContractTests(SyncFixture fixture) : IClassFixture<SyncFixture>
{
    [GeneratedRegex(@"<!-- example:(?<name>[a-z-]+) -->\s*```json\n(?<json>.*?)\n```", RegexOptions.Singleline)]
    private static partial Regex Example();

    static Dictionary<string, string> ReadmeExamples()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "CampaignEvents.sln")))
        {
            folder = folder.Parent;
        }

        Assert.NotNull(folder);
        var readme = File.ReadAllText(Path.Combine(folder.FullName, "README.md"));
        return Example().Matches(readme).ToDictionary(m => m.Groups["name"].Value, m => m.Groups["json"].Value);
    }

    [Fact]
    public async Task The_README_examples_published_as_plain_JSON_leave_the_documented_rows()
    {
        var examples = ReadmeExamples();
        Assert.Equal(["campaign-changed", "contact-change-batch", "contact-changed", "contact-deleted"], examples.Keys.Order());

        // the exchange of each example is its name
        await PublishRaw(fixture.Broker, new[] { Topology.CampaignChangedExchange, Topology.ContactChangedExchange, Topology.ContactDeletedExchange, Topology.ContactChangeBatchExchange }
            .Select(exchange => (exchange, examples[exchange])));

        var campaign = Guid.Parse("3b9ac9ff-1c2d-4e5f-8a7b-6c5d4e3f2a1b");
        await Eventually.Until(
            async () => await Count(fixture.Database.DataSource, "SELECT count(*) FROM contact_tombstones WHERE campaign_id = @campaign", new { campaign }) == 2
                && await Count(fixture.Database.DataSource, "SELECT count(*) FROM contacts WHERE campaign_id = @campaign", new { campaign }) == 1,
            TimeSpan.FromSeconds(30), "one contact and two tombstones");
        ContactAssert.SameContacts(
            [new ContactRow(campaign, "+33612345678", JsonNode.Parse("""{ "name": "Émilie", "city": "Lyon" }""")!.AsObject())],
            await Contacts(fixture.Database.DataSource, campaign));
        Assert.Equal(1, await Count(fixture.Database.DataSource,
            "SELECT count(*) FROM campaigns WHERE id = @campaign AND name = 'Spring reminders' AND config = '{\"maxAttempts\": 3, \"callerId\": \"+12015550100\"}'::jsonb AND version = 41", new { campaign }));
        Assert.Empty(await Peek(fixture.Vhost, Topology.ErrorQueue(Topology.ContactChangesQueue)));
    }
}
