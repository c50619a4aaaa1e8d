using System.Diagnostics;
using System.Globalization;
using CampaignEvents.TestSupport;
using CampaignEvents.TestSupport.Stack;
using Dapper;
using Npgsql;
using Xunit;

namespace CampaignEvents.IntegrationTests.FaultMatrix;

/// <summary>The rows of one run of the matrix, printed as a table and written to TestResults/fault-matrix.md when the collection ends.</summary>
public sealed class FaultMatrixReport : IAsyncLifetime
{
    // one table for both collections of the matrix (they run side by side); each writes it whole as it ends
    static readonly List<string> rows = [];

    public void Add(string @case, long events, long duplicates, TimeSpan converged, string result)
    {
        lock (rows)
        {
            rows.Add($"| {@case} | {events:N0} | {duplicates:N0} | {converged.TotalSeconds:0.0} s | {result} |");
        }
    }

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        string[] all;
        lock (rows)
        {
            all = [.. rows];
        }

        if (all.Length == 0)
        {
            return;
        }

        var table = string.Join('\n', [
            $"Fault matrix, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, {MatrixWorld.Contacts:N0} contacts per case:",
            "",
            "| case | events | duplicates seen | time to converge | result |",
            "|---|---|---|---|---|",
            .. all,
        ]);
        var folder = Repository.PathOf("TestResults");
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, "fault-matrix.md"), table + "\n");
        await Console.Out.WriteLineAsync(table);
    }
}

/// <summary>The faults of processes and connections; runs beside <see cref="FaultMatrixServersCollection"/>.</summary>
[CollectionDefinition(Name)]
public sealed class FaultMatrixCollection : ICollectionFixture<FaultMatrixReport>
{
    public const string Name = "fault-matrix";
}

/// <summary>The faults of servers (each case stops a server of its own).</summary>
[CollectionDefinition(Name)]
public sealed class FaultMatrixServersCollection : ICollectionFixture<FaultMatrixReport>
{
    public const string Name = "fault-matrix-servers";
}

/// <summary>
/// The fault matrix (issue "Fault matrix and bad-input suite"): each case syncs 50,000 contacts
/// through the real pipeline, roles as separate processes, keeps the source changing while it
/// injects one fault, then checks local = source row by row, <c>reconcile --all</c> exit 0, empty
/// error and wait queues. A Task.Delay here is a fault's own length (a server down for 15 s, a stall
/// of 8 s) or a random kill point, never a wait for an outcome: those poll with a deadline. The
/// soak mode repeats the matrix: <c>CE_SOAK_MINUTES=30 bash infra/test.sh --filter Category=FaultMatrix</c>.
/// </summary>
[Collection(FaultMatrixCollection.Name)]
[Trait("Category", "FaultMatrix")]
public sealed class FaultMatrixTests(FaultMatrixReport report)
{
    static readonly TimeSpan Deadline = MatrixCases.Deadline;

    [Fact]
    public Task Sync_consumer_killed_at_random_points_six_times() => Case("sync consumer SIGKILL ×6", new MatrixSetup(), async (world, _) =>
    {
        var random = new Random();
        for (var kill = 0; kill < 6; kill++)
        {
            // the first kills land during the initial sync (mid-batch), the others during the churn
            var before = await MatrixCases.LocalCount(world);
            await Eventually.Until(async () => await MatrixCases.LocalCount(world) > before + 2_000 || kill >= 3, Deadline, "the consumer makes progress before the next kill");
            await Task.Delay(random.Next(200, 1500));
            await MatrixWorld.Kill(world.Current("sync"));
            world.Start("sync");
        }
    });

    [Fact]
    public Task Adapter_killed_during_the_snapshot_and_during_streaming() => Case("adapter SIGKILL in snapshot and stream", new MatrixSetup(), async (world, _) =>
    {
        // the snapshot of 50,000 rows publishes for a second or two: kill it early, as soon as its first batches are out
        var waiting = Stopwatch.StartNew();
        while (world.Published < 2_000)
        {
            Assert.True(waiting.Elapsed < Deadline, $"the adapter published nothing; it wrote:\n{world.Log}");
            await Task.Delay(5);
        }

        await MatrixWorld.Kill(world.Current("source"));
        Assert.False(await MatrixCases.SnapshotCompleted(world), "the kill was meant to hit the snapshot, but it had completed");
        world.Start("source");
        await Eventually.Until(() => MatrixCases.SnapshotCompleted(world), Deadline, () => $"the snapshot completed after the restart; the roles wrote:\n{world.Log}");

        // then in the stream: once the churn's changes flow through the restarted adapter
        var streamed = world.Published;
        await Eventually.Until(() => Task.FromResult(world.Published > streamed + 100), Deadline, "changes streaming after the snapshot");
        await MatrixWorld.Kill(world.Current("source"));
        world.Start("source");
    });

    [Fact]
    public Task Connections_cut_and_stalled_between_consumer_and_broker_and_between_adapter_and_source() =>
        Case("connections cut and stalled (proxy)", new MatrixSetup { ProxySource = true, ProxyBroker = true }, async (world, _) =>
        {
            await Eventually.Until(async () => await MatrixCases.LocalCount(world) > 10_000, Deadline, "the sync under way");
            Assert.True(world.BrokerProxy!.CutAll() + world.SourceProxy!.CutAll() > 0, "no connection went through the proxies");
            await Eventually.Until(async () => await MatrixCases.LocalCount(world) > 30_000, Deadline, () => $"the sync goes on after the cut; the roles wrote:\n{world.Log}");
            await Task.WhenAll(world.BrokerProxy.Stall(TimeSpan.FromSeconds(8)), world.SourceProxy.Stall(TimeSpan.FromSeconds(8)));
            world.BrokerProxy.CutAll();
            world.SourceProxy.CutAll();
        });

    Task Case(string name, MatrixSetup setup, Func<MatrixWorld, Guid[], Task> fault) => MatrixCases.Case(report, name, setup, fault);
}

/// <summary>The matrix's server faults: RabbitMQ, the local and the source PostgreSQL, each a server of the case's own.</summary>
[Collection(FaultMatrixServersCollection.Name)]
[Trait("Category", "FaultMatrix")]
public sealed class FaultMatrixServerTests(FaultMatrixReport report)
{
    static readonly TimeSpan Deadline = MatrixCases.Deadline;

    [Fact]
    public async Task RabbitMQ_node_restarted_while_adapter_and_consumers_are_connected()
    {
        await using var broker = await ThrowawayRabbitMq.Start();
        await Case("RabbitMQ node restart", new MatrixSetup { Broker = broker }, async (world, _) =>
        {
            await Eventually.Until(async () => await MatrixCases.LocalCount(world) > 20_000, Deadline, "the sync under way");
            await broker.StopServer();
            await broker.StartServer();
        });
    }

    [Fact]
    public async Task Local_PostgreSQL_stopped_for_15_seconds()
    {
        await using var local = await ThrowawayPostgres.Start();
        await Case("local PostgreSQL stopped 15 s", new MatrixSetup { LocalServer = local }, async (world, _) =>
        {
            await Eventually.Until(async () => await MatrixCases.LocalCount(world) > 20_000, Deadline, "the sync under way");
            await local.StopServer();
            await Task.Delay(TimeSpan.FromSeconds(15));
            await local.StartServer();
        });
    }

    [Fact]
    public async Task Local_PostgreSQL_down_for_longer_than_the_retry_budget()
    {
        await using var local = await ThrowawayPostgres.Start();
        var setup = new MatrixSetup
        {
            LocalServer = local,
            Settings = new()
            {
                // a budget of about a second: the outage below outlasts it many times over
                ["Sync__TransientRetryLimit"] = "3",
                ["Sync__TransientRetryMinInterval"] = "00:00:00.100",
                ["Sync__TransientRetryMaxInterval"] = "00:00:00.400",
            },
        };
        await Case("local PostgreSQL down past the retry budget (20 s)", setup, async (world, _) =>
        {
            await Eventually.Until(async () => await MatrixCases.LocalCount(world) > 20_000, Deadline, "the sync under way");
            await local.StopServer();
            await Task.Delay(TimeSpan.FromSeconds(20));
            await local.StartServer();
        });
    }

    [Fact]
    public async Task Source_PostgreSQL_stopped_for_15_seconds()
    {
        await using var source = await ThrowawayPostgres.Start(walLevel: "logical");
        await Case("source PostgreSQL stopped 15 s", new MatrixSetup { SourceServer = source }, async (world, _) =>
        {
            await Eventually.Until(() => MatrixCases.SnapshotCompleted(world), Deadline, "the snapshot completed");
            await source.StopServer();
            await Task.Delay(TimeSpan.FromSeconds(15));
            await source.StartServer();
        });
    }

    [Fact]
    public async Task RabbitMQ_memory_alarm_blocks_publishers_then_the_flow_resumes()
    {
        await using var broker = await ThrowawayRabbitMq.Start();
        await Case("RabbitMQ memory alarm (10 s)", new MatrixSetup { Broker = broker }, async (world, _) =>
        {
            await Eventually.Until(async () => await MatrixCases.LocalCount(world) > 10_000, Deadline, "the sync under way");
            await broker.Control("set_vm_memory_high_watermark", "0.000001");
            await Task.Delay(TimeSpan.FromSeconds(10));
            await broker.Control("set_vm_memory_high_watermark", "0.4");
        });
    }

    Task Case(string name, MatrixSetup setup, Func<MatrixWorld, Guid[], Task> fault) => MatrixCases.Case(report, name, setup, fault);
}

/// <summary>What every case does around its fault.</summary>
static class MatrixCases
{
    public static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);

    /// <summary>Soak mode: how long to repeat a case (0: once, as CI runs it).</summary>
    static readonly TimeSpan Soak = TimeSpan.FromMinutes(double.Parse(Environment.GetEnvironmentVariable("CE_SOAK_MINUTES") ?? "0", CultureInfo.InvariantCulture) / 4);

    /// <summary>
    /// Seeds the world, starts the adapter and one consumer, keeps the source changing while
    /// <paramref name="fault"/> runs, then stops the churn and checks everything; one row of the report.
    /// </summary>
    public static async Task Case(FaultMatrixReport report, string name, MatrixSetup setup, Func<MatrixWorld, Guid[], Task> fault)
    {
        var until = DateTime.UtcNow + Soak;
        var round = 0;
        do
        {
            round++;
            var label = Soak > TimeSpan.Zero ? $"{name} (round {round})" : name;
            await using var world = await MatrixWorld.Create(new string([.. name.Where(char.IsAsciiLetterOrDigit).Take(8)]), setup);
            var converged = TimeSpan.Zero;
            try
            {
                var campaigns = await world.Seed();
                world.Start("source");
                world.Start("sync");
                using var stopChurn = new CancellationTokenSource();
                var churn = world.Churn(campaigns, stopChurn.Token);
                await fault(world, campaigns);
                var faultEnded = Stopwatch.StartNew();

                // the source goes on changing for a moment after the fault, then holds still to be compared
                await Task.Delay(TimeSpan.FromSeconds(2));
                await stopChurn.CancelAsync();
                await churn;
                await world.Converged(Deadline);
                converged = faultEnded.Elapsed;
                await world.Verified();
                report.Add(label, world.Events, world.Duplicates, converged, "0 missing, 0 extra, 0 different");
            }
            catch (Exception e)
            {
                report.Add(label, world.Events, world.Duplicates, converged, $"FAILED: {e.Message.Split('\n')[0]}");
                throw;
            }
        }
        while (DateTime.UtcNow < until);
    }

    public static async Task<long> LocalCount(MatrixWorld world)
    {
        try
        {
            await using var connection = new NpgsqlConnection(world.LocalDb.ConnectionString);
            await connection.OpenAsync();
            return await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM contacts");
        }
        catch (NpgsqlException)
        {
            return 0;
        }
    }

    public static async Task<bool> SnapshotCompleted(MatrixWorld world)
    {
        await using var connection = new NpgsqlConnection(world.LocalDb.ConnectionString);
        await connection.OpenAsync();
        return await connection.ExecuteScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM source_adapter_state WHERE snapshot_completed_at IS NOT NULL)");
    }
}
