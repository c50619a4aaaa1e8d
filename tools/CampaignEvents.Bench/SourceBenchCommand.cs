using System.CommandLine;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using CampaignEvents.Cli.Commands;
using CampaignEvents.Cli.Hosting;
using CampaignEvents.Contracts;
using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Infrastructure.Messaging;
using Dapper;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NpgsqlTypes;

namespace CampaignEvents.Bench;

/// <summary>
/// Benchmarks of the source adapter on throwaway databases and a throwaway vhost of the configured
/// servers (all dropped at the end): <c>bench initial-sync</c> and <c>bench streaming</c>. Each prints
/// its reference (binary COPY) from the same run, because shared machines vary from day to day.
/// </summary>
public static class SourceBenchCommand
{
    public static Command InitialSync()
    {
        var count = new Option<int>("--count") { Description = "Contacts in the external database.", DefaultValueFactory = _ => 1_000_000 };
        var campaigns = new Option<int>("--campaigns") { Description = "Campaigns they belong to.", DefaultValueFactory = _ => 10 };
        var process = new Option<bool>("--process")
        {
            Description = "Run the roles as one `campaign-events run --role source --role sync` process and start the clock before the process starts (by default they run in the bench's own process).",
        };
        var cli = new Option<FileInfo?>("--cli") { Description = "With --process: the campaign-events program, its executable or campaign-events.dll. By default the build beside this tool." };
        var command = new Command("initial-sync", "Time from adapter start to the last contact applied locally (source + sync roles), beside a binary COPY of the same rows into a table of the local shape.") { count, campaigns, process, cli };
        command.SetAction((parse, cancel) => Failures.Guard(() => parse.GetValue(process)
            ? RunInitialSyncProcess(parse.GetValue(count), parse.GetValue(campaigns), CampaignEventsProgram.Find(parse.GetValue(cli)), cancel)
            : parse.GetValue(cli) is not null
                ? throw new SettingsException("option --cli only applies with --process")
                : RunInitialSync(parse.GetValue(count), parse.GetValue(campaigns), cancel)));
        return command;
    }

    public static Command Streaming()
    {
        var rate = new Option<int>("--rate") { Description = "Updates per second at the source.", DefaultValueFactory = _ => 2_000 };
        var seconds = new Option<int>("--seconds") { Description = "How long to keep the rate.", DefaultValueFactory = _ => 60 };
        var rows = new Option<int>("--rows") { Description = "Contacts the updates are spread over.", DefaultValueFactory = _ => 10_000 };
        var perTransaction = new Option<int>("--per-transaction") { Description = "Updates committed together in one source transaction, 1 to 1000; 1 with a --rate above what the source commits measures at the highest rate one connection commits.", DefaultValueFactory = _ => 20 };
        var command = new Command("streaming", "p50/p99 time from source commit to local apply at a sustained rate of updates (source + sync roles).") { rate, seconds, rows, perTransaction };
        command.SetAction((parse, cancel) => Failures.Guard(() => RunStreaming(parse.GetValue(rate), parse.GetValue(seconds), parse.GetValue(rows), parse.GetValue(perTransaction), cancel)));
        return command;
    }

    static async Task<int> RunInitialSync(int count, int campaignCount, CancellationToken cancel)
    {
        await using var world = await BenchWorld.Create("init", cancel);
        var campaigns = await world.SeedSource(campaignCount, count, cancel);
        Console.WriteLine($"source: {count:N0} contacts over {campaignCount} campaigns (~80-byte metadata)");

        // the reference: the same rows by binary COPY into a table with the local shape (FK, unique index)
        var reference = await world.CopyReference(campaigns, count, cancel);
        Console.WriteLine($"reference: binary COPY of the same rows into the local shape: {reference.TotalSeconds:0.0} s ({count / reference.TotalSeconds:N0} rows/s)");

        // the clock stops on the sync consumer's own count of committed rows (no count(*) of a growing
        // table while it is measured); the table is checked once at the end
        var rssReset = ProcStat.ResetOwnPeakRss();
        var clock = Stopwatch.StartNew();
        using var host = PipelineHost.CreateBuilder([Role.Source, Role.Sync], world.Settings).Build();
        using var counter = new AppliedRows(host.Services.GetRequiredService<IMeterFactory>(), count);
        await host.StartAsync(cancel);
        TimeSpan? confirmed = null;
        var allApplied = counter.All(TimeSpan.FromSeconds(60), cancel);
        while (!allApplied.IsCompleted)
        {
            await Task.WhenAny(allApplied, Task.Delay(100, cancel));
            confirmed ??= await world.SnapshotConfirmed(cancel) ? clock.Elapsed : null;
        }

        TimeSpan? applied = null;
        string? problem = null;
        try
        {
            await allApplied;
            applied = clock.Elapsed;
        }
        catch (InvalidOperationException e)
        {
            problem = e.Message;
        }

        confirmed ??= await world.SnapshotConfirmed(cancel) ? clock.Elapsed : null;
        await host.StopAsync(CancellationToken.None);
        var local = await world.LocalContacts(cancel);
        if (applied is not null && local != count)
        {
            (applied, problem) = (null, $"the sync consumer reported {count:N0} rows applied, but the local table holds {local:N0}");
        }

        Console.WriteLine($"adapter start -> snapshot confirmed by RabbitMQ: {confirmed?.TotalSeconds:0.0} s ({(confirmed is { } c ? count / c.TotalSeconds : 0):N0} rows/s, {(confirmed is { } c2 ? c2 / reference : 0):0.00}x COPY)");
        var ratio = applied is { } a ? a / reference : (double?)null;
        if (applied is { } a2)
        {
            Console.WriteLine($"adapter start -> last row applied locally: {a2.TotalSeconds:0.0} s ({count / a2.TotalSeconds:N0} rows/s, {ratio:0.00}x COPY)");
        }
        else
        {
            Console.WriteLine($"local apply did not complete: {problem}");
        }

        // the clock starts when the bench builds the host (source + sync roles) in its own process: a
        // separate process's start (runtime load, JIT of startup) is not in it
        InitialSyncTarget("host build in the bench", applied, ratio, count, reference)
            .BenchProcessPeakRss(rssReset)
            .Print(Console.Out);
        return applied is null ? 1 : 0;
    }

    /// <summary>
    /// The initial sync as an operator runs it: one <c>campaign-events run --role source --role sync</c>
    /// process with this run's settings in its environment; the clock starts before the process
    /// starts and stops when its own counter of applied rows reaches the count (read from its
    /// metrics endpoint every 100 ms); the table is checked after. Its peak RSS is its own.
    /// </summary>
    static async Task<int> RunInitialSyncProcess(int count, int campaignCount, CampaignEventsProgram program, CancellationToken cancel)
    {
        await using var world = await BenchWorld.Create("initp", cancel);
        var campaigns = await world.SeedSource(campaignCount, count, cancel);
        Console.WriteLine($"source: {count:N0} contacts over {campaignCount} campaigns (~80-byte metadata); the roles in one process of {program}");

        var reference = await world.CopyReference(campaigns, count, cancel);
        Console.WriteLine($"reference: binary COPY of the same rows into the local shape: {reference.TotalSeconds:0.0} s ({count / reference.TotalSeconds:N0} rows/s)");
        Console.WriteLine($"  {world.CopyCpu}");

        var environment = world.Settings.Where(s => s.Value is not null).ToDictionary(s => s.Key.Replace(":", "__", StringComparison.Ordinal), s => s.Value!);
        var logFile = Path.Combine(Path.GetTempPath(), $"campaign-events-bench-initial-sync-{Environment.ProcessId}.log");
        var cpuBefore = CpuSample.Take();
        CpuSample? cpuAfter = null;
        var clock = Stopwatch.StartNew();
        TimeSpan? applied = null;
        double? peak;
        RssParts? largest = null;
        string? problem = null;
        await using (var process = ConsumerProcess.Start(program, environment, logFile, "source", "sync"))
        {
            var deadline = TimeSpan.FromSeconds(60 + (count / 1_000));
            long last = 0;
            while (clock.Elapsed < deadline)
            {
                try
                {
                    last = await process.Applied(cancel) ?? last;
                }
                catch (HttpRequestException)
                {
                    // its metrics endpoint is not listening yet
                }

                largest = RssParts.Larger(largest, ProcStat.Rss(process.Id));
                if (last >= count)
                {
                    applied = clock.Elapsed;
                    cpuAfter = CpuSample.Take(process.Id);
                    break;
                }

                await Task.Delay(100, cancel);
            }

            problem = applied is null ? $"{last:N0} of {count:N0} rows applied after {deadline.TotalSeconds:0} s; see {logFile}" : null;
            peak = process.PeakRssMiB();
            if (applied is not null)
            {
                // what the slot still holds once the adapter has confirmed the stream past the snapshot
                var (retained, after) = await world.SlotRetainedWal(TimeSpan.FromSeconds(60), cancel);
                Console.WriteLine(retained is { } r
                    ? TargetTable.Invariant($"replication slot's retained WAL (current LSN − restart_lsn), {after.TotalSeconds:0.0} s after the last row: {r / 1_048_576.0:0.0} MiB")
                    : "replication slot not found");
            }
        }

        var local = await world.LocalContacts(cancel);
        if (applied is not null && local != count)
        {
            (applied, problem) = (null, $"the process reported {count:N0} rows applied, but the local table holds {local:N0}");
        }

        var ratio = applied is { } a ? a / reference : (double?)null;
        Console.WriteLine(applied is { } a2
            ? $"process start -> last row applied locally: {a2.TotalSeconds:0.0} s ({count / a2.TotalSeconds:N0} rows/s, {ratio:0.00}x COPY)"
            : $"local apply did not complete: {problem}");
        if (applied is { } a3 && cpuAfter is not null)
        {
            // the profile of the limit: what the pipeline's CPU allows on these cores, beside the COPY's
            Console.WriteLine($"  {CpuSample.Describe("campaign-events process", cpuBefore, cpuAfter, a3, reference)}");
        }

        if (largest is not null)
        {
            // the profile of the memory target: which part of the resident set a change can shrink
            Console.WriteLine($"  the process's largest resident set sampled (every 100 ms): {largest.Describe()}");
        }

        InitialSyncTarget("campaign-events process start", applied, ratio, count, reference)
            .PeakRss("the `campaign-events run --role source --role sync` process", peak)
            .Print(Console.Out);
        return applied is null ? 1 : 0;
    }

    /// <summary>The initial-sync target's line; <paramref name="clockStart"/> says where its clock starts.</summary>
    static TargetTable InitialSyncTarget(string clockStart, TimeSpan? applied, double? ratio, int count, TimeSpan reference) => new TargetTable()
        .Add(
            $"initial sync ≤ 1.5× binary COPY ({clockStart} → last row applied; table checked after)",
            applied is { } a ? TargetTable.Invariant($"{a.TotalSeconds:0.0} s = {ratio:0.00}× COPY") : "did not complete",
            TargetTable.Invariant($"COPY of the same {count:N0} rows {reference.TotalSeconds:0.0} s"),
            TargetTable.AtMost(ratio, 1.5));

    static async Task<int> RunStreaming(int rate, int seconds, int rowCount, int perTransaction, CancellationToken cancel)
    {
        if (perTransaction is < 1 or > 1_000)
        {
            throw new SettingsException($"option --per-transaction is {perTransaction}: give 1 to 1000");
        }

        await using var world = await BenchWorld.Create("stream", cancel);
        var campaigns = await world.SeedSource(1, rowCount, cancel);
        var ids = await world.SourceIds(cancel);

        // without a sync consumer, delivery from RabbitMQ is the end of the line: a probe consumer measures it
        var delivered = new System.Collections.Concurrent.ConcurrentDictionary<long, long>();
        var probe = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(world.Rabbit.Host, (ushort)world.Rabbit.Port, world.Rabbit.VirtualHost, h =>
            {
                h.Username(world.Rabbit.Username);
                h.Password(world.Rabbit.Password);
            });
            BusRegistration.ConfigureWire(cfg);
            cfg.ReceiveEndpoint("bench-probe", e => e.Handler<ContactChangeBatch>(context =>
            {
                var now = Stopwatch.GetTimestamp();
                foreach (var change in context.Message.Changes)
                {
                    if (change.Metadata.TryGetProperty("seq", out var seq))
                    {
                        delivered.TryAdd(seq.GetInt64(), now);
                    }
                }

                return Task.CompletedTask;
            }));
        });
        var rssReset = ProcStat.ResetOwnPeakRss();
        await probe.StartAsync(cancel);
        using var host = PipelineHost.CreateBuilder([Role.Source, Role.Sync], world.Settings).Build();
        await host.StartAsync(cancel);
        var warm = Stopwatch.StartNew();
        while (!await world.SnapshotConfirmed(cancel) && warm.Elapsed < TimeSpan.FromMinutes(5))
        {
            await Task.Delay(100, cancel);
        }

        var syncPresent = false;
        while (warm.Elapsed < TimeSpan.FromSeconds(60) && !(syncPresent = await world.LocalContacts(cancel) >= rowCount))
        {
            await Task.Delay(100, cancel);
        }

        Console.WriteLine(syncPresent
            ? $"measuring source commit -> local apply, {rate}/s for {seconds} s over {rowCount:N0} contacts, {perTransaction} per source transaction"
            : $"the sync consumer applied nothing: measuring source commit -> delivery from RabbitMQ instead, {rate}/s for {seconds} s");

        var committed = new System.Collections.Concurrent.ConcurrentDictionary<long, long>();
        var appliedAt = new System.Collections.Concurrent.ConcurrentDictionary<long, long>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var watcher = syncPresent ? world.WatchLocalSeq(appliedAt, stop.Token) : Task.CompletedTask;
        var total = rate * seconds;
        var cpuBefore = CpuSample.Take();
        var started = Stopwatch.GetTimestamp();
        await using (var connection = await world.Source.OpenConnectionAsync(cancel))
        {
            // by default transactions of up to 20 updates keep the rate reachable on two shared cores
            for (long seq = 0; seq < total; seq += perTransaction)
            {
                var due = started + (long)(seq / (double)rate * Stopwatch.Frequency);
                var wait = due - Stopwatch.GetTimestamp();
                if (wait > 0)
                {
                    await Task.Delay(TimeSpan.FromSeconds(wait / (double)Stopwatch.Frequency), cancel);
                }

                var n = (int)Math.Min(perTransaction, total - seq);
                var seqs = Enumerable.Range(0, n).Select(i => seq + i).ToArray();
                var targets = seqs.Select(s => ids[(int)(s % ids.Length)]).ToArray();
                await connection.ExecuteAsync(
                    "UPDATE contacts c SET metadata = c.metadata || jsonb_build_object('seq', u.seq) FROM unnest(@targets, @seqs) AS u(id, seq) WHERE c.id = u.id",
                    new { targets, seqs });
                var now = Stopwatch.GetTimestamp();
                foreach (var s in seqs)
                {
                    committed[s] = now;
                }
            }
        }

        var steady = Stopwatch.GetElapsedTime(started);
        var achieved = total / steady.TotalSeconds;

        // where the cores went while the rate was kept (this bench hosts the adapter and the consumer)
        var cpu = CpuSample.Describe(null, cpuBefore, CpuSample.Take(), steady);
        var ends = syncPresent ? appliedAt : delivered;
        var drain = Stopwatch.StartNew();
        while (ends.Count < total * 0.999 && drain.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(100, cancel);
        }

        await stop.CancelAsync();
        try
        {
            await watcher;
        }
        catch (OperationCanceledException)
        {
        }

        await host.StopAsync(CancellationToken.None);
        await probe.StopAsync(CancellationToken.None);
        var latencies = committed
            .Where(c => ends.ContainsKey(c.Key))
            .Select(c => Math.Max(0, (ends[c.Key] - c.Value) * 1000.0 / Stopwatch.Frequency))
            .Order()
            .ToArray();
        if (latencies.Length == 0)
        {
            Console.WriteLine("no change arrived");
            return 1;
        }

        double Pct(double p) => latencies[Math.Min(latencies.Length - 1, (int)(p * latencies.Length))];
        Console.WriteLine($"rate achieved at the source: {achieved:N0} changes/s; observed {latencies.Length:N0} of {total:N0} (later updates of a row may hide earlier ones)");
        var measured = syncPresent ? "commit -> local apply" : "commit -> delivered from RabbitMQ";
        Console.WriteLine($"{measured}: p50 {Pct(0.50):0.0} ms, p99 {Pct(0.99):0.0} ms, max {latencies[^1]:0.0} ms");
        LatencyHistogram.Print(LatencyHistogram.Count(latencies), Console.Out);
        Console.WriteLine($"while the rate was kept: {cpu} (this bench hosts the adapter, the consumer and the updates)");

        // the clock starts when the UPDATE's commit returned to the bench and stops when the 5 ms poller
        // saw the row's seq locally (or the probe got it from RabbitMQ: then the target is not measured)
        new TargetTable()
            .Add(
                TargetTable.Invariant($"streaming p99 < 100 ms, source commit → local apply at {rate:N0} changes/s, {perTransaction} per transaction"),
                TargetTable.Invariant($"p99 {Pct(0.99):0.0} ms (p50 {Pct(0.50):0.0}, max {latencies[^1]:0.0}; {(syncPresent ? "commit -> local apply, seen by a 5 ms poller" : measured)})"),
                TargetTable.Invariant($"rate reached at the source {achieved:N0}/s, {latencies.Length:N0} changes observed"),
                syncPresent ? TargetTable.Below(Pct(0.99), 100) : Verdict.NotMeasured)
            .BenchProcessPeakRss(rssReset)
            .Print(Console.Out);
        return 0;
    }

    /// <summary>Source, local and reference databases of the run's throwaway world (<see cref="BenchEnvironment"/>).</summary>
    sealed class BenchWorld : IAsyncDisposable
    {
        readonly BenchEnvironment environment;
        readonly NpgsqlConnectionStringBuilder local;
        readonly NpgsqlConnectionStringBuilder reference;

        BenchWorld(BenchEnvironment environment, NpgsqlConnectionStringBuilder source, NpgsqlConnectionStringBuilder local, NpgsqlConnectionStringBuilder reference)
        {
            this.environment = environment;
            this.local = local;
            this.reference = reference;
            Source = NpgsqlDataSource.Create(source);
            Settings = environment.HostSettings(local, source);
        }

        public RabbitMqOptions Rabbit => environment.Rabbit;

        public Dictionary<string, string?> Settings { get; }

        public NpgsqlDataSource Source { get; }

        public static async Task<BenchWorld> Create(string purpose, CancellationToken cancel)
        {
            var environment = await BenchEnvironment.Create(Infrastructure.Configuration.Settings.Load(), cancel);
            try
            {
                var source = await environment.Database($"{purpose}_src", DatabaseShape.Source, cancel);
                var local = await environment.Database($"{purpose}_loc", DatabaseShape.Local, cancel);
                var reference = await environment.Database($"{purpose}_copy", DatabaseShape.Local, cancel);
                return new BenchWorld(environment, source, local, reference);
            }
            catch
            {
                await environment.DisposeAsync();
                throw;
            }
        }

        static string Metadata(int i) => $"{{\"first_name\": \"Contact\", \"last_name\": \"Number {i}\", \"tier\": \"gold\", \"n\": {i}}}";

        /// <summary>How long a bulk step of the seeding (COPY, VACUUM) may take: millions of rows.</summary>
        static readonly TimeSpan BulkTimeout = TimeSpan.FromHours(1);

        static string Phone(int i) => $"+1415{2000000 + i:D7}";

        public async Task<Guid[]> SeedSource(int campaignCount, int count, CancellationToken cancel)
        {
            await using var connection = await Source.OpenConnectionAsync(cancel);
            var campaigns = new Guid[campaignCount];
            for (var c = 0; c < campaignCount; c++)
            {
                campaigns[c] = await connection.ExecuteScalarAsync<Guid>("INSERT INTO campaigns (name, type, status) VALUES (@name, 'voice', 'active') RETURNING id", new { name = $"bench {c}" });
            }

            await Copy(connection, campaigns, count, cancel);

            // a source in use has been vacuumed long ago; a fresh bulk load would get its autovacuum
            // (visibility map, statistics) inside the measured window
            await connection.ExecuteAsync("VACUUM ANALYZE contacts", commandTimeout: (int)BulkTimeout.TotalSeconds);
            return campaigns;
        }

        static async Task Copy(NpgsqlConnection connection, Guid[] campaigns, int count, CancellationToken cancel)
        {
            await using var copy = await connection.BeginBinaryImportAsync("COPY contacts (campaign_id, phone_number, metadata) FROM STDIN (FORMAT BINARY)", cancel);
            // millions of rows take longer than a command's default 30 s to complete
            copy.Timeout = BulkTimeout;
            for (var i = 0; i < count; i++)
            {
                await copy.StartRowAsync(cancel);
                await copy.WriteAsync(campaigns[i % campaigns.Length], NpgsqlDbType.Uuid, cancel);
                await copy.WriteAsync(Phone(i), NpgsqlDbType.Text, cancel);
                await copy.WriteAsync(Metadata(i), NpgsqlDbType.Jsonb, cancel);
            }

            await copy.CompleteAsync(cancel);
        }

        /// <summary>Where the CPU of the last <see cref="CopyReference"/> went (<see cref="CpuSample.Describe"/>).</summary>
        public string? CopyCpu { get; private set; }

        public async Task<TimeSpan> CopyReference(Guid[] campaigns, int count, CancellationToken cancel)
        {
            await using var connection = new NpgsqlConnection(reference.ConnectionString);
            await connection.OpenAsync(cancel);
            foreach (var campaign in campaigns)
            {
                await connection.ExecuteAsync("INSERT INTO campaigns (id, name, type, status) VALUES (@campaign, 'bench', 'voice', 'active')", new { campaign });
            }

            await Settle(cancel);
            var cpu = CpuSample.Take();
            var clock = Stopwatch.StartNew();
            await Copy(connection, campaigns, count, cancel);
            var elapsed = clock.Elapsed;
            CopyCpu = CpuSample.Describe(null, cpu, CpuSample.Take(), elapsed);

            // measured: its autovacuum would otherwise run inside the pipeline's clock
            await connection.CloseAsync();
            await environment.Drop(reference);

            await Settle(cancel);
            return elapsed;
        }

        /// <summary>
        /// Waits for a checkpoint, so that a measured phase does not pay for writing out the dirty
        /// buffers of the phase before it (seeding, the reference COPY): both start alike. DROP
        /// DATABASE waits for one and needs no more privilege than the benchmark already has.
        /// </summary>
        async Task Settle(CancellationToken cancel) =>
            await environment.Drop(await environment.Database("settle", DatabaseShape.Empty, cancel));

        public async Task<Guid[]> SourceIds(CancellationToken cancel)
        {
            await using var connection = await Source.OpenConnectionAsync(cancel);
            return [.. await connection.QueryAsync<Guid>(new CommandDefinition("SELECT id FROM contacts", cancellationToken: cancel))];
        }

        public async Task<bool> SnapshotConfirmed(CancellationToken cancel)
        {
            await using var connection = new NpgsqlConnection(local.ConnectionString);
            await connection.OpenAsync(cancel);
            return await connection.ExecuteScalarAsync<bool>(new CommandDefinition("SELECT EXISTS (SELECT 1 FROM source_adapter_state WHERE snapshot_completed_at IS NOT NULL)", cancellationToken: cancel));
        }

        /// <summary>
        /// The bytes of WAL the run's slot keeps (current LSN − its restart_lsn), polled until under
        /// 1 MiB or the deadline; null when there is no slot. And how long it took.
        /// </summary>
        public async Task<(long? Bytes, TimeSpan After)> SlotRetainedWal(TimeSpan deadline, CancellationToken cancel)
        {
            var clock = Stopwatch.StartNew();
            await using var connection = await Source.OpenConnectionAsync(cancel);
            while (true)
            {
                var retained = await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
                    "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint FROM pg_replication_slots WHERE slot_name = @slot",
                    new { slot = environment.SlotName }, cancellationToken: cancel));
                if (retained is null or < 1_048_576 || clock.Elapsed >= deadline)
                {
                    return (retained, clock.Elapsed);
                }

                await Task.Delay(500, cancel);
            }
        }

        public async Task<long> LocalContacts(CancellationToken cancel)
        {
            await using var connection = new NpgsqlConnection(local.ConnectionString);
            await connection.OpenAsync(cancel);
            return await connection.ExecuteScalarAsync<long>(new CommandDefinition("SELECT count(*) FROM contacts", cancellationToken: cancel));
        }

        /// <summary>Polls the local table for newly applied sequence numbers and stamps when each was first seen.</summary>
        public async Task WatchLocalSeq(System.Collections.Concurrent.ConcurrentDictionary<long, long> seen, CancellationToken cancel)
        {
            await using var connection = new NpgsqlConnection(local.ConnectionString);
            await connection.OpenAsync(cancel);
            while (!cancel.IsCancellationRequested)
            {
                var seqs = await connection.QueryAsync<long>(new CommandDefinition(
                    "SELECT (metadata->>'seq')::bigint FROM contacts WHERE metadata ? 'seq'", cancellationToken: cancel));
                var now = Stopwatch.GetTimestamp();
                foreach (var s in seqs)
                {
                    seen.TryAdd(s, now);
                }

                await Task.Delay(5, cancel);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await Source.DisposeAsync();
            await environment.DisposeAsync();
        }
    }
}
