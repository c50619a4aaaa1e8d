using System.Text.Json.Nodes;
using CampaignEvents.TestSupport.Generators;
using CampaignEvents.TestSupport.Stack;
using Dapper;
using Xunit;

namespace CampaignEvents.IntegrationTests.Source;

/// <summary>The fallback: keyset polling on updated_at publishes inserts and updates; deletes are left to reconciliation.</summary>
public sealed class PollingCaptureTests(IsolatedVhost vhost) : IClassFixture<IsolatedVhost>
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Polling_publishes_inserts_and_updates_and_resumes_from_its_saved_position()
    {
        await using var world = await SourceWorld.Create(vhost, "polling");
        world.Settings["Source:Mode"] = "Polling";
        world.Settings["Source:PollInterval"] = "00:00:00.100";
        world.Settings["Source:PollingLag"] = "00:00:00";
        world.Settings["Source:SnapshotPageSize"] = "25";
        var campaigns = await world.CreateCampaigns(2);
        await world.Seed(Enumerable.Range(0, 300).Select(i => new ContactRow(campaigns[i % 2], $"+1415{2000000 + i:D7}", new JsonObject { ["n"] = i })));

        await world.StartAdapter();
        await world.Converged(Deadline);
        await using (var connection = await world.Source.OpenConnectionAsync())
        {
            await connection.ExecuteAsync("UPDATE contacts SET metadata = '{\"updated\": true}' WHERE phone_number LIKE '+14152000%'");
            await connection.ExecuteAsync("INSERT INTO contacts (campaign_id, phone_number) VALUES (@c, '+14155550101')", new { c = campaigns[0] });
        }

        await world.Converged(Deadline);

        // a restart continues from the saved position: the old rows are not published again
        await world.StopAdapters();
        var before = world.Oracle.Items;
        await using (var connection = await world.Source.OpenConnectionAsync())
        {
            await connection.ExecuteAsync("INSERT INTO contacts (campaign_id, phone_number) VALUES (@c, '+14155550102')", new { c = campaigns[1] });
        }

        await world.StartAdapter();
        await world.Converged(Deadline);
        Assert.True(world.Oracle.Items - before < 10, $"{world.Oracle.Items - before} items published after the restart");
    }
}
