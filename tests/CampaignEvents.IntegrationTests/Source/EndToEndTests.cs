using System.Text.Json;
using System.Text.Json.Nodes;
using CampaignEvents.Cli.Hosting;
using CampaignEvents.Infrastructure.Database;
using CampaignEvents.IntegrationTests.Pipeline;
using CampaignEvents.TestSupport;
using CampaignEvents.TestSupport.Generators;
using CampaignEvents.TestSupport.Stack;
using Dapper;
using Xunit;

namespace CampaignEvents.IntegrationTests.Source;

/// <summary>Source adapter and the real sync consumer together: the local table ends equal to the source.</summary>
public sealed class EndToEndTests(IsolatedVhost vhost) : IClassFixture<IsolatedVhost>
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Snapshot_and_stream_through_the_sync_consumer_leave_the_local_contacts_equal_to_the_source()
    {
        await using var world = await SourceWorld.Create(vhost, "e2e");
        var campaigns = await world.CreateCampaigns(3);
        await world.Seed(Enumerable.Range(0, 3_000).Select(i => new ContactRow(campaigns[i % 3], $"+1415{2000000 + i:D7}", new JsonObject { ["n"] = i, ["name"] = $"Zoë {i} 📞" })));
        await using (var connection = await world.Source.OpenConnectionAsync())
        {
            await connection.ExecuteAsync("INSERT INTO contacts (campaign_id, phone_number) VALUES (@c, 'not a phone')", new { c = campaigns[0] });
        }

        var host = await RoleHosts.Build([Role.Source, Role.Sync], world.Settings);
        await host.StartAsync();
        try
        {
            await LocalEqualsSource(world);

            // the guard (docs/adr/0015): the pipeline connects as its job, never as the administrator
            // the harness keeps: the broker's connection, the walsender and the local sessions
            var broker = await Identities.RequireJobUsersOnBroker(vhost.Management, vhost.Name);
            Assert.All(broker, c => Assert.Equal(Identities.BrokerUser(Job.Pipeline), c.User));
            await Identities.RequireJobLoginsConnected(world.SourceDb, RoleGrants.Roles.Source);
            await Identities.RequireJobLoginsConnected(world.LocalDb, RoleGrants.Roles.Pipeline);

            await using (var connection = await world.Source.OpenConnectionAsync())
            {
                await connection.ExecuteAsync("UPDATE contacts SET metadata = metadata || '{\"updated\": true}' WHERE phone_number LIKE '+141520001%'");
                await connection.ExecuteAsync("DELETE FROM contacts WHERE phone_number LIKE '+141520002%'");
                await connection.ExecuteAsync("UPDATE contacts SET phone_number = '(415) 555-0199' WHERE phone_number = '+14152000300'");
                await connection.ExecuteAsync("INSERT INTO contacts (campaign_id, phone_number, metadata) VALUES (@c, '+14155550123', '{\"late\": 1}')", new { c = campaigns[2] });
            }

            await LocalEqualsSource(world);

            // the operator's view of the same pipeline: the slot is there, streaming, and its lag is measured
            var status = await CliProcess.Run(["status", "--json"], SlotPipeline.Environment(world, Job.Status));
            var slot = JsonDocument.Parse(status.Output).RootElement.GetProperty("slot");
            Assert.Equal(world.Slot, slot.GetProperty("name").GetString());
            Assert.True(slot.GetProperty("exists").GetBoolean(), status.ToString());
            Assert.True(slot.GetProperty("active").GetBoolean(), status.ToString());
            Assert.True(slot.GetProperty("lagBytes").GetInt64() >= 0, status.ToString());
            Assert.NotNull(slot.GetProperty("confirmedFlushLsn").GetString());
        }
        finally
        {
            await host.StopAsync();
            host.Dispose();
        }
    }

    static Task LocalEqualsSource(SourceWorld world) => world.LocalEqualsSource(Deadline);
}
