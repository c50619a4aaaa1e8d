using System.Diagnostics.Metrics;
using System.Text.Json.Nodes;
using CampaignEvents.Cli.Hosting;
using CampaignEvents.Contracts.Reconciliation;
using CampaignEvents.IntegrationTests.Pipeline;
using CampaignEvents.Source;
using CampaignEvents.Source.Configuration;
using CampaignEvents.Source.Mapping;
using CampaignEvents.Source.ReconciliationSide;
using CampaignEvents.TestSupport;
using CampaignEvents.TestSupport.Generators;
using CampaignEvents.TestSupport.Stack;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xunit;

namespace CampaignEvents.IntegrationTests.Source;

/// <summary>
/// Issue 12, item 5: one source row the consumer would refuse (metadata above Sync:MaxMetadataBytes,
/// a campaign config nested too deep) is rejected at the source, counted and listed by
/// reconciliation; capture goes on and every good row reaches the local database.
/// </summary>
public sealed class RejectedAtSourceTests(IsolatedVhost vhost) : IClassFixture<IsolatedVhost>
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    static string Deep(int depth) => string.Concat(Enumerable.Repeat("""{"a":""", depth - 1)) + "{}" + new string('}', depth - 1);

    static readonly string Oversized = $$"""{"blob": "{{new string('x', 70_000)}}"}""";

    [Fact]
    public async Task Oversized_metadata_and_a_too_deep_config_are_rejected_and_every_good_row_syncs()
    {
        await using var world = await SourceWorld.Create(vhost, "rejected");
        var campaigns = await world.CreateCampaigns(2);
        await world.Seed(Enumerable.Range(0, 500).Select(i => new ContactRow(campaigns[i % 2], $"+1415{3000000 + i:D7}", new JsonObject { ["n"] = i })));
        Guid deepCampaign;
        await using (var connection = await world.Source.OpenConnectionAsync())
        {
            await connection.ExecuteAsync("INSERT INTO contacts (campaign_id, phone_number, metadata) VALUES (@c, '+14155550901', @m::jsonb)", new { c = campaigns[0], m = Oversized });
            deepCampaign = await connection.ExecuteScalarAsync<Guid>("INSERT INTO campaigns (name, type, status, config) VALUES ('deep', 'voice', 'active', @config::jsonb) RETURNING id", new { config = Deep(100) });
            // no contact in the rejected campaign: it would wait for a campaign that never comes (docs/adr/0004),
            // and the consumer of this build holds the whole batch that carries it while it waits
        }

        var host = await RoleHosts.Build([Role.Source, Role.Sync], world.Settings);
        var metrics = host.Services.GetRequiredService<SourceMetrics>();
        long rejected = 0;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument, metrics.RejectedRows))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref rejected, value));
        listener.Start();
        await host.StartAsync();
        try
        {
            // the snapshot: both bad rows rejected (counted), every good row synced
            await LocalEqualsGoodSourceRows(world, deepCampaign);
            await Eventually.Until(() => Task.FromResult(Interlocked.Read(ref rejected) >= 2), Deadline, "both rejected rows are counted");

            // the stream: the same rows again, between good ones; capture goes on past them
            await using (var connection = await world.Source.OpenConnectionAsync())
            {
                await connection.ExecuteAsync("INSERT INTO contacts (campaign_id, phone_number, metadata) VALUES (@c, '+14155550903', @m::jsonb)", new { c = campaigns[1], m = Oversized });
                await connection.ExecuteAsync("UPDATE campaigns SET config = @config::jsonb WHERE id = @id", new { id = deepCampaign, config = Deep(80) });
                await connection.ExecuteAsync("INSERT INTO contacts (campaign_id, phone_number, metadata) VALUES (@c, '+14155550904', '{\"after\": true}')", new { c = campaigns[1] });
                await connection.ExecuteAsync("UPDATE contacts SET metadata = '{\"updated\": true}' WHERE phone_number = '+14153000001'");
            }

            await LocalEqualsGoodSourceRows(world, deepCampaign);
            await Eventually.Until(() => Task.FromResult(Interlocked.Read(ref rejected) >= 4), Deadline, "the streamed rejections are counted");
            await using (var local = new NpgsqlConnection(world.LocalDb.ConnectionString))
            {
                Assert.False(await local.ExecuteScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM campaigns WHERE id = @id)", new { id = deepCampaign }));
            }

            // reconciliation lists the oversized rows as rejected at source, with the adapter's reason, and does not count them
            var source = new SourceContacts(world.Source, new SourceMapping(new SourceOptions()));
            foreach (var (campaign, phone, goodRows) in new[] { (campaigns[0], "+14155550901", 250), (campaigns[1], "+14155550903", 251) })
            {
                var digest = await source.Digest(new DigestSourceContacts { CampaignId = campaign, Level = DigestLevel.Buckets }, TestContext.Current.CancellationToken);
                var row = Assert.Single(digest.Rejected);
                Assert.Equal(phone, row.RawPhone);
                Assert.Contains("Source:MaxMetadataBytes", row.Reason, StringComparison.Ordinal);
                Assert.Equal(goodRows, digest.Counts.Sum());
            }
        }
        finally
        {
            await host.StopAsync();
            host.Dispose();
        }
    }

    /// <summary>Local contacts equal the source's, less the oversized rows and the contacts of the rejected campaign.</summary>
    static Task LocalEqualsGoodSourceRows(SourceWorld world, Guid rejectedCampaign) =>
        world.LocalEqualsSource(Deadline, c => c.CampaignId != rejectedCampaign && !c.Metadata.ContainsKey("blob"));
}
