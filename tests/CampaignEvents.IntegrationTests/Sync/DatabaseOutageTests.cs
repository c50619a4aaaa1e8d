using System.Diagnostics;
using CampaignEvents.Infrastructure.Database;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.TestSupport;
using CampaignEvents.TestSupport.Stack;
using Npgsql;
using Xunit;
using static CampaignEvents.IntegrationTests.Sync.SyncHarness;

namespace CampaignEvents.IntegrationTests.Sync;

public sealed class DatabaseOutageTests(IsolatedVhost vhost) : IClassFixture<IsolatedVhost>
{
    [Fact]
    public async Task When_PostgreSQL_stops_for_over_ten_seconds_while_events_flow_every_event_is_applied_and_none_is_in_the_error_queue()
    {
        await using var postgres = await ThrowawayPostgres.Start();
        await postgres.CreateDatabase("contacts");
        var connection = postgres.Connection("contacts");
        Migrator.Apply(connection);
        // the test's own reads must not reuse a connection the restart has cut
        await using var dataSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connection.ConnectionString) { Pooling = false });
        var campaign = await InsertCampaign(dataSource);
        using var host = await StartSync(connection.ConnectionString, vhost.Rabbit);
        await using var broker = await Connect(vhost.Rabbit);
        var published = 0;

        async Task Burst()
        {
            var burst = Enumerable.Range(published, 10)
                .Select(i => (Topology.ContactChangedExchange, Changed(campaign, $"+1201555{i:D4}", i + 1))).ToList();
            await PublishRaw(broker, burst);
            published += burst.Count;
        }

        // events flow before, during and after the outage
        var clock = Stopwatch.StartNew();
        await Eventually.Until(async () => { await Burst(); return clock.Elapsed > TimeSpan.FromSeconds(2); }, TimeSpan.FromSeconds(10), "events before the outage");
        await postgres.StopServer();
        var outage = Stopwatch.StartNew();
        await Eventually.Until(async () => { await Burst(); return outage.Elapsed > TimeSpan.FromSeconds(12); }, TimeSpan.FromSeconds(30), "events during a 12 s outage");
        await postgres.StartServer();
        var down = outage.Elapsed;
        await Eventually.Until(async () => { await Burst(); return outage.Elapsed > TimeSpan.FromSeconds(14); }, TimeSpan.FromSeconds(30), "events after the outage");

        await Eventually.Until(
            async () => await Count(dataSource, "SELECT count(*) FROM contacts WHERE campaign_id = @campaign", new { campaign }) == published,
            TimeSpan.FromSeconds(90), () => $"all {published} events applied");
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{published} events, database down {down.TotalSeconds:0.0} s; all applied {(outage.Elapsed - down).TotalSeconds:0.0} s after the restart, none in the error queue");
        Assert.Empty(await Peek(vhost, Topology.ErrorQueue(Topology.ContactChangesQueue)));
        await host.StopAsync();
    }
}
