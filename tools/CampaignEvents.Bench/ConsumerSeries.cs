using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.Throwaway;
using Dapper;
using Npgsql;

namespace CampaignEvents.Bench;

/// <summary>
/// The throughput per added consumer: the same rows, published as batches to each broker (one node,
/// a cluster), applied by 1, 2, 4 … separate <c>campaign-events run --role sync</c> processes, each
/// connected first to another node of the broker. Besides the time it measures where the CPU went
/// (/proc) and what the PostgreSQL backends waited for (pg_stat_activity, pg_locks).
/// </summary>
sealed class ConsumerSeries(CampaignEventsProgram cli, NpgsqlConnectionStringBuilder database, NpgsqlDataSource dataSource, RabbitMqOptions rabbit, string vhost, IReadOnlyList<TimeSpan> campaignWaits)
{
    /// <summary>One case of the series.</summary>
    public sealed record Result(
        int Consumers, BrokerTarget Broker, string PublisherNode, int Rows, TimeSpan Elapsed, TimeSpan Published, IReadOnlyList<long> AppliedPerProcess,
        double? PeakRssMaxMiB, double? PeakRssSumMiB, Cpu Cpu, PostgresWaits.Summary Waits);

    /// <summary>CPU seconds over one case, by whom; null where /proc did not tell.</summary>
    public sealed record Cpu(double Wall, double? Consumers, double? Broker, double? Postgres, double? Bench, double? MachineBusy, double? MachineTotal);

    public async Task<IReadOnlyList<Result>> Run(IReadOnlyList<BrokerTarget> brokers, IReadOnlyList<int> consumerCounts, List<SyncBenchCommand.Row> rows, int batchSize, CancellationToken cancel)
    {
        var logs = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), vhost)).FullName;
        Console.WriteLine();
        Console.WriteLine($"consumer processes ({string.Join(", ", consumerCounts)}) × brokers ({string.Join("; ", brokers.Select(b => b.Label))}); their logs in {logs}");
        var results = new List<Result>();
        foreach (var broker in brokers)
        {
            var options = Options(broker, rabbit, vhost);
            using var management = ManagementApi.Client(options);
            var nodeNames = await NodeNames(management, broker, cancel);
            // the run's vhost on this broker (the bench's own world when it is the configured one)
            await ThrowawayVhosts.Create(options, vhost, cancel);
            try
            {
                // declared from the first node (client-local leader), where the bench publishes too
                await new BrokerTopology(options, campaignWaits).Declare(cancel);
                var queue = await management.GetFromJsonAsync<JsonElement>($"api/queues/{Uri.EscapeDataString(vhost)}/{Topology.ContactChangesQueue}", cancel);
                var leader = queue.TryGetProperty("leader", out var l) ? l.GetString() : queue.TryGetProperty("node", out var n) ? n.GetString() : "?";
                var brokerPids = ProcStat.RabbitNodes(nodeNames);
                Console.WriteLine($"{broker.Label}: nodes {string.Join(", ", nodeNames)} ({brokerPids.Count} of them on this machine, by /proc); {Topology.ContactChangesQueue} led by {leader}");
                foreach (var count in consumerCounts)
                {
                    Console.WriteLine($"  {count} consumer process(es) … (load average {ProcStat.LoadAverage()})");
                    var result = await Case(broker, options, count, brokerPids, rows, batchSize, logs, cancel);
                    Print(result);
                    results.Add(result);
                }
            }
            finally
            {
                await ThrowawayVhosts.Delete(options, vhost);
            }
        }

        return results;
    }

    async Task<Result> Case(BrokerTarget broker, RabbitMqOptions options, int count, IReadOnlyList<int> brokerPids, List<SyncBenchCommand.Row> rows, int batchSize, string logs, CancellationToken cancel)
    {
        await SyncBenchCommand.Truncate(dataSource);
        var messages = SyncBenchCommand.Messages(rows, batchSize);
        var consumers = new List<ConsumerProcess>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                var environment = SyncBenchCommand.ConsumerLimits(batchSize).ToDictionary(s => s.Key.Replace(":", "__", StringComparison.Ordinal), s => s.Value);
                consumers.Add(ConsumerProcess.Start(
                    cli,
                    new Dictionary<string, string>(environment)
                    {
                        ["ConnectionStrings__Contacts"] = database.ConnectionString,
                        ["RabbitMq__Hosts"] = broker.HostListFrom(i),
                        ["RabbitMq__ManagementHosts"] = broker.ManagementList,
                        ["RabbitMq__VirtualHost"] = vhost,
                        ["RabbitMq__Username"] = rabbit.Username,
                        ["RabbitMq__Password"] = rabbit.Password,
                        ["Logging__LogLevel__Default"] = "Warning",
                    },
                    Path.Combine(logs, $"{broker.Nodes.Count}-nodes-{count}-consumers-{i + 1}.log")));
            }

            // several .NET processes starting at once on two cores take a while
            await Task.WhenAll(consumers.Select(c => c.Ready(TimeSpan.FromSeconds(120), cancel)));

            await using var connection = await BrokerConnection.Connect(options, "campaign-events bench publisher", cancel);
            var before = Snapshot(consumers, brokerPids);
            await using var waits = await PostgresWaits.Start(dataSource, database.Database!, TimeSpan.FromMilliseconds(200));
            var clock = Stopwatch.StartNew();
            var published = await SyncBenchCommand.PublishAll(connection, messages, batchSize, clock, cancel);
            var applied = await AllApplied(consumers, rows.Count, TimeSpan.FromSeconds(60), cancel);
            var elapsed = clock.Elapsed;
            var after = Snapshot(consumers, brokerPids);
            var summary = await waits.Finish();
            var peaks = consumers.Select(c => ProcStat.PeakRssMiB(c.Id)).ToList();

            await using (var db = await dataSource.OpenConnectionAsync(cancel))
            {
                var inTable = await db.ExecuteScalarAsync<long>("SELECT count(*) FROM contacts");
                if (inTable != rows.Count)
                {
                    throw new InvalidOperationException($"the consumer processes reported {applied.Sum():N0} rows applied, but the table holds {inTable:N0}");
                }
            }

            var wall = elapsed.TotalSeconds;
            return new Result(
                count, broker, $"{connection.Endpoint.HostName}:{connection.Endpoint.Port}", rows.Count, elapsed, published, applied,
                peaks.All(p => p is not null) ? peaks.Max() : null,
                peaks.All(p => p is not null) ? peaks.Sum() : null,
                new Cpu(
                    wall,
                    Delta(before.Consumers, after.Consumers),
                    brokerPids.Count > 0 ? Delta(before.Broker, after.Broker) : null,
                    summary.CpuSeconds,
                    Delta(before.Bench, after.Bench),
                    Delta(before.Machine?.Busy, after.Machine?.Busy),
                    Delta(before.Machine?.Total, after.Machine?.Total)),
                summary);
        }
        finally
        {
            // stopped one after another: SIGTERM lets in-flight batches finish (there are none left)
            foreach (var consumer in consumers)
            {
                await consumer.DisposeAsync();
            }
        }
    }

    /// <summary>Polls each process's counter until they sum to <paramref name="expected"/>; fails when none moved for <paramref name="stall"/>.</summary>
    static async Task<IReadOnlyList<long>> AllApplied(List<ConsumerProcess> consumers, long expected, TimeSpan stall, CancellationToken cancel)
    {
        long seen = -1;
        var since = Stopwatch.StartNew();
        var applied = new long[consumers.Count];
        while (true)
        {
            var answers = await Task.WhenAll(consumers.Select(c => c.Applied(cancel)));
            for (var i = 0; i < answers.Length; i++)
            {
                // a process too busy to answer in time keeps its last count
                applied[i] = answers[i] ?? applied[i];
            }

            var sum = applied.Sum();
            if (sum >= expected)
            {
                return applied;
            }

            if (sum != seen)
            {
                seen = sum;
                since.Restart();
            }
            else if (since.Elapsed > stall)
            {
                throw new InvalidOperationException($"no row applied for {stall.TotalSeconds:0} s: {sum:N0} of {expected:N0} rows; see the consumers' logs ({string.Join(", ", consumers.Select(c => c.LogFile))})");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), cancel);
        }
    }

    /// <summary>Checks, before anything is measured, that each broker's dashboards answer and belong to it.</summary>
    public static async Task Check(IReadOnlyList<BrokerTarget> brokers, RabbitMqOptions rabbit, CancellationToken cancel)
    {
        foreach (var broker in brokers)
        {
            using var management = ManagementApi.Client(Options(broker, rabbit, rabbit.VirtualHost));
            try
            {
                await NodeNames(management, broker, cancel);
            }
            catch (HttpRequestException e)
            {
                throw new SettingsException($"option --management-hosts: the dashboard of --brokers {broker.HostList} at {management.BaseAddress} does not answer as user {rabbit.Username} ({e.StatusCode?.ToString() ?? e.Message})", e);
            }
        }
    }

    static RabbitMqOptions Options(BrokerTarget broker, RabbitMqOptions rabbit, string vhost) => new()
    {
        Hosts = broker.HostList, ManagementHosts = broker.ManagementList, Port = rabbit.Port, ManagementPort = rabbit.ManagementPort,
        VirtualHost = vhost, Username = rabbit.Username, Password = rabbit.Password,
    };

    /// <summary>The broker's node names serving the listed AMQP ports: also proves the dashboards belong to that broker.</summary>
    static async Task<IReadOnlyList<string>> NodeNames(HttpClient management, BrokerTarget broker, CancellationToken cancel)
    {
        var overview = await management.GetFromJsonAsync<JsonElement>("api/overview", cancel);
        var amqp = overview.GetProperty("listeners").EnumerateArray()
            .Where(l => l.GetProperty("protocol").GetString() == "amqp")
            .Select(l => (Node: l.GetProperty("node").GetString()!, Port: l.GetProperty("port").GetInt32()))
            .ToList();
        var missing = broker.Nodes.Where(n => amqp.All(a => a.Port != n.Port)).ToList();
        if (missing.Count > 0)
        {
            throw new SettingsException(
                $"option --management-hosts: the dashboard at {management.BaseAddress} serves a broker listening for AMQP on port {string.Join(", ", amqp.Select(a => a.Port))}, not on {string.Join(", ", missing.Select(m => m.Port))} of --brokers {broker.HostList}; give the dashboards of that broker");
        }

        return [.. broker.Nodes.Select(n => amqp.First(a => a.Port == n.Port).Node).Distinct()];
    }

    sealed record Sample(double? Consumers, double? Broker, double? Bench, (double Busy, double Total)? Machine);

    static Sample Snapshot(List<ConsumerProcess> consumers, IReadOnlyList<int> brokerPids) => new(
        Sum(consumers.Select(c => ProcStat.CpuSeconds(c.Id))),
        Sum(brokerPids.Select(ProcStat.CpuSeconds)),
        ProcStat.CpuSeconds(Environment.ProcessId),
        ProcStat.Machine());

    static double? Sum(IEnumerable<double?> values)
    {
        var list = values.ToList();
        return list.All(v => v is not null) ? list.Sum() : null;
    }

    static double? Delta(double? before, double? after) => CpuSample.Delta(before, after);

    static string Seconds(double? value) => CpuSample.Seconds(value);

    static void Print(Result r)
    {
        var c = r.Cpu;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {r.Consumers} consumer process(es), {r.Broker.Label}: {r.Rows:N0} rows in {r.Elapsed.TotalSeconds:0.00} s (published to {r.PublisherNode} in {r.Published.TotalSeconds:0.00} s), {r.Rows / r.Elapsed.TotalSeconds:N0} rows/s; applied per process {string.Join(" / ", r.AppliedPerProcess.Select(a => a.ToString("N0", CultureInfo.InvariantCulture)))}; peak RSS {Mib(r.PeakRssMaxMiB)} MiB max, {Mib(r.PeakRssSumMiB)} MiB in all"));
        var rest = c.MachineBusy is { } busy ? busy - (c.Consumers ?? 0) - (c.Broker ?? 0) - (c.Postgres ?? 0) - (c.Bench ?? 0) : (double?)null;
        var idle = c.MachineBusy is { } b2 && c.MachineTotal is { } t ? t - b2 : (double?)null;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"    CPU s over the {c.Wall:0.0} s ({Environment.ProcessorCount} cores: {c.Wall * Environment.ProcessorCount:0.0} CPU s): consumers {Seconds(c.Consumers)}, broker nodes {Seconds(c.Broker)}, PostgreSQL backends of the bench database {Seconds(c.Postgres)}, bench (publisher) {Seconds(c.Bench)}, rest of the machine {Seconds(rest)}, idle {Seconds(idle)}"));
        var w = r.Waits;
        var states = w.States.Count == 0 ? "none" : string.Join(", ", w.States.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.What} {s.Backends:0.00}")));
        var locks = w.Locks.Count == 0 ? "none" : string.Join(", ", w.Locks.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Type} {s.Backends:0.00}")));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"    PostgreSQL backends of the bench database ({w.Samples} samples, every 200 ms): {w.Active:0.00} active on average: {states}; waiting for a lock (pg_locks, not granted): {locks}, in {w.LockWaitShare:P0} of samples"));
    }

    static string Mib(double? value) => value is { } v ? v.ToString("0", CultureInfo.InvariantCulture) : "?";

    /// <summary>The table of the series, after the COPY reference it is compared with.</summary>
    public static void Table(IReadOnlyList<Result> results, TimeSpan copy, int copyRows)
    {
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"throughput per added consumer (COPY reference: {copyRows:N0} rows in {copy.TotalSeconds:0.00} s, {copyRows / copy.TotalSeconds:N0} rows/s):"));
        var width = results.Max(r => r.Broker.Label.Length);
        Console.WriteLine($"{"consumers",9}  {"broker(s)".PadRight(width)} {"rows",10} {"seconds",8} {"rows/s",9} {"time/COPY",9} {"rate/COPY",9}  {"peak RSS MiB (max / all)",24}");
        foreach (var r in results)
        {
            var rate = r.Rows / r.Elapsed.TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{r.Consumers,9}  {r.Broker.Label.PadRight(width)} {r.Rows,10:N0} {r.Elapsed.TotalSeconds,8:0.00} {rate,9:N0} {r.Elapsed.TotalSeconds / copy.TotalSeconds,8:0.00}× {rate / (copyRows / copy.TotalSeconds),9:0.00}  {$"{Mib(r.PeakRssMaxMiB)} / {Mib(r.PeakRssSumMiB)}",24}"));
        }
    }
}
