using System.Diagnostics.Metrics;
using CampaignEvents.Source;
using CampaignEvents.TestSupport;
using CampaignEvents.TestSupport.Stack;
using Dapper;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace CampaignEvents.IntegrationTests.Source;

/// <summary>
/// Property: for a generated workload of inserts, updates, key changes and deletes, part of it
/// committed while the initial snapshot is read, what the adapter publishes (folded last-writer-wins)
/// ends equal to the source, row by row. Each iteration has its own source database and slot.
/// </summary>
public sealed class ReplicationPropertyTests(IsolatedVhost vhost) : IClassFixture<IsolatedVhost>
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public void Published_changes_end_equal_to_the_source_whatever_runs_during_the_snapshot()
    {
        var property = Prop.ForAll(SourceWorkload.Generator.ToArbitrary(), workload =>
        {
            Scenario(workload).GetAwaiter().GetResult();
            return true;
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(20), property);
    }

    async Task Scenario(SourceWorkload workload)
    {
        await using var world = await SourceWorld.Create(vhost, "prop");
        // tiny pages make the snapshot long enough for the writers to run inside it
        world.Settings["Source:SnapshotPageSize"] = "3";
        world.Settings["Source:BatchSize"] = "7";
        var campaigns = await world.CreateCampaigns(SourceWorkload.Campaigns);
        await SourceWorkload.Run(world.Source, campaigns, workload.Initial.Select(i => new SourceOp[] { i }));
        await SourceWorkload.Run(world.Source, campaigns, workload.BeforeStart);

        // the "during" transactions run over and over from before the adapter starts until its
        // snapshot is recorded complete, so they straddle slot creation, the snapshot and the stream
        using var writing = new CancellationTokenSource();
        var during = Task.Run(async () =>
        {
            var passes = 0;
            while (workload.DuringSnapshot.Length > 0 && (passes++ == 0 || !await SnapshotCompleted(world)))
            {
                await SourceWorkload.Run(world.Source, campaigns, workload.DuringSnapshot);
            }
        });
        await world.StartAdapter();
        await Eventually.Until(() => SnapshotCompleted(world), Deadline, "the initial snapshot completes");
        await during;
        await SourceWorkload.Run(world.Source, campaigns, workload.AfterSnapshot);
        await world.Converged(Deadline);
    }

    static async Task<bool> SnapshotCompleted(SourceWorld world)
    {
        await using var local = new Npgsql.NpgsqlConnection(world.LocalDb.ConnectionString);
        await local.OpenAsync();
        return await local.ExecuteScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM source_adapter_state WHERE snapshot_completed_at IS NOT NULL)");
    }

    [Fact]
    public async Task A_row_whose_phone_cannot_be_normalized_is_counted_and_the_rest_flows()
    {
        await using var world = await SourceWorld.Create(vhost, "reject");
        var campaigns = await world.CreateCampaigns(1);
        await using (var connection = await world.Source.OpenConnectionAsync())
        {
            await connection.ExecuteAsync("INSERT INTO contacts (campaign_id, phone_number) VALUES (@c, '+14155550101'), (@c, 'call me maybe')", new { c = campaigns[0] });
        }

        var host = await world.StartAdapter();
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

        await world.Converged(Deadline);
        await using (var connection = await world.Source.OpenConnectionAsync())
        {
            // streamed: one more rejected row beside a good one in the same transaction
            await connection.ExecuteAsync("INSERT INTO contacts (campaign_id, phone_number) VALUES (@c, '+14155550102'), (@c, '12')", new { c = campaigns[0] });
        }

        await world.Converged(Deadline);
        Assert.Equal(2, world.Oracle.Contacts.Count);
        // the snapshot's rejection may have been counted before the listener attached; the stream's is always seen
        await Eventually.Until(() => Task.FromResult(Interlocked.Read(ref rejected) >= 1), Deadline, "the rejected row is counted");
    }
}
