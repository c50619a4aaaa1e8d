using System.Text.Json.Nodes;
using CampaignEvents.TestSupport.Generators;
using CampaignEvents.TestSupport.Stack;
using Dapper;
using Xunit;

namespace CampaignEvents.IntegrationTests.Source;

/// <summary>
/// The adapter against a real source (wal_level=logical) and RabbitMQ: what it publishes,
/// folded last-writer-wins, equals the source table. Each scenario has its own source and local
/// databases, slot and publication; slots are dropped at the end.
/// </summary>
public sealed class ReplicationCaptureTests(IsolatedVhost vhost) : IClassFixture<IsolatedVhost>
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task When_the_adapter_starts_it_publishes_the_snapshot_then_streams_inserts_updates_deletes_and_key_changes()
    {
        await using var world = await SourceWorld.Create(vhost, "basic");
        var campaigns = await world.CreateCampaigns(2);
        await world.Seed([
            new ContactRow(campaigns[0], "+14155550101", new JsonObject { ["name"] = "Ann" }),
            new ContactRow(campaigns[0], "+14155550102", new JsonObject { ["name"] = "Bob" }),
            new ContactRow(campaigns[1], "+14155550103", new JsonObject()),
        ]);

        await world.StartAdapter();
        await world.Converged(Deadline);
        Assert.Equal(campaigns.Order(), world.Oracle.Campaigns.Order());

        await using (var connection = await world.Source.OpenConnectionAsync())
        {
            await connection.ExecuteAsync("INSERT INTO contacts (campaign_id, phone_number, metadata) VALUES (@c, '(415) 555-0104', '{\"n\": 4}')", new { c = campaigns[1] });
            await connection.ExecuteAsync("UPDATE contacts SET metadata = '{\"name\": \"Ann B\"}' WHERE phone_number = '+14155550101'");
            await connection.ExecuteAsync("DELETE FROM contacts WHERE phone_number = '+14155550102'");
            // a key change: the old key must disappear, the new one appear
            await connection.ExecuteAsync("UPDATE contacts SET phone_number = '+14155550199' WHERE phone_number = '+14155550103'");
            // several changes of one key in one transaction: the last one wins
            await connection.ExecuteAsync("""
                BEGIN;
                UPDATE contacts SET metadata = '{"v": 1}' WHERE phone_number = '+14155550101';
                UPDATE contacts SET metadata = '{"v": 2}' WHERE phone_number = '+14155550101';
                COMMIT;
                """);
        }

        await world.Converged(Deadline);
        Assert.Contains(world.Oracle.Contacts, c => c.PhoneNumber == "+14155550104");
        Assert.DoesNotContain(world.Oracle.Contacts, c => c.PhoneNumber == "+14155550103");
    }
}
