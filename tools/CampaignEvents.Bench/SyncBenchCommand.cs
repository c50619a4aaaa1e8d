using System.CommandLine;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using CampaignEvents.Cli.Commands;
using CampaignEvents.Cli.Hosting;
using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.Infrastructure.Phones;
using CampaignEvents.Sync.Configuration;
using Dapper;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NpgsqlTypes;
using RabbitMQ.Client;

namespace CampaignEvents.Bench;

/// <summary>
/// <c>bench sync</c>: end-to-end apply throughput of the sync consumer, beside a binary COPY of the
/// same rows (the machine's write limit) and a naive one-upsert-per-change loop, in one run on a
/// throwaway database and vhost. Figures are only comparable within one run (see LIMITS).
/// </summary>
public static class SyncBenchCommand
{
    public static Command Create()
    {
        var count = new Option<int>("--count") { Description = "Contact changes for the batched path and the COPY reference.", DefaultValueFactory = _ => 1_000_000 };
        var campaigns = new Option<int>("--campaigns") { Description = "Campaigns the changes are spread over.", DefaultValueFactory = _ => 10 };
        var batchSize = new Option<int>("--batch-size") { Description = "Changes per ContactChangeBatch message.", DefaultValueFactory = _ => 1000 };
        var perEvent = new Option<int>("--per-event-count") { Description = "Changes sent one per message (ContactChanged).", DefaultValueFactory = _ => 100_000 };
        var naive = new Option<int>("--naive-count") { Description = "Changes written one INSERT … ON CONFLICT and one commit each; 0 skips it.", DefaultValueFactory = _ => 20_000 };
        var consumers = new Option<string?>("--consumers")
        {
            Description = "Also measure the --count changes applied by separate `campaign-events run --role sync` processes: comma-separated numbers of processes, e.g. 1,2,4 (one case each, per --brokers).",
        };
        var brokers = new Option<string[]>("--brokers")
        {
            Description = "The broker of the consumer processes, as RabbitMq:Hosts: comma-separated host[:port] of a node or of a cluster's nodes (consumer i connects first to node i). Repeat to measure several brokers in one run; the configured broker by default.",
        };
        var managementHosts = new Option<string[]>("--management-hosts")
        {
            Description = "The dashboards of each --brokers, as RabbitMq:ManagementHosts, once per --brokers in the same order; by default the configured ones for the configured broker, else the hosts on RabbitMq:ManagementPort.",
        };
        var cli = new Option<FileInfo?>("--cli")
        {
            Description = "With --consumers: the campaign-events program the consumer processes run, its executable or campaign-events.dll. By default the build beside this tool (the project reference puts it there).",
        };
        var command = new Command("sync", "Measure the sync consumer end to end (publish → RabbitMQ → apply) against COPY and a naive upsert loop, on a throwaway database and vhost; with --consumers, also 1, 2, 4 … consumer processes against one node or a cluster.")
        {
            count, campaigns, batchSize, perEvent, naive, consumers, brokers, managementHosts, cli,
        };
        command.SetAction((parse, cancel) => Failures.Guard(() => Run(
            parse.GetValue(count), parse.GetValue(campaigns), parse.GetValue(batchSize), parse.GetValue(perEvent), parse.GetValue(naive),
            parse.GetValue(consumers), parse.GetValue(brokers) ?? [], parse.GetValue(managementHosts) ?? [], parse.GetValue(cli), cancel)));
        return command;
    }

    internal sealed record Row(Guid CampaignId, string Phone, string Metadata);

    static async Task<int> Run(
        int count, int campaignCount, int batchSize, int perEventCount, int naiveCount,
        string? consumersOption, string[] brokersOption, string[] managementOption, FileInfo? cliOption, CancellationToken cancel)
    {
        // every option is checked before a server is touched
        ConsumerSeriesOptions.CheckCounts(count, campaignCount, batchSize, perEventCount, naiveCount);
        var consumerCounts = ConsumerSeriesOptions.ParseConsumers(consumersOption);
        if (consumerCounts.Count == 0 && (brokersOption.Length > 0 || managementOption.Length > 0))
        {
            throw new SettingsException("option --brokers / --management-hosts only apply with --consumers: give the numbers of consumer processes, for example --consumers 1,2,4");
        }

        var configuration = Settings.Load();
        var rabbit = configuration.RabbitMq();
        var targets = consumerCounts.Count > 0 ? ConsumerSeriesOptions.ParseBrokers(brokersOption, managementOption, rabbit) : [];
        var cli = consumerCounts.Count > 0 ? CampaignEventsProgram.Find(cliOption) : null;
        if (consumerCounts.Count == 0 && cliOption is not null)
        {
            throw new SettingsException("option --cli only applies with --consumers: give the numbers of consumer processes, for example --consumers 1,2,4");
        }

        var sync = configuration.Valid(SyncOptions.Section, new SyncOptionsValidation());
        await ConsumerSeries.Check(targets, rabbit, cancel);
        await using var world = await BenchEnvironment.Create(configuration, cancel);
        var database = await world.Database("sync", DatabaseShape.Local, cancel);
        var vhost = world.Rabbit.VirtualHost;

        Console.WriteLine($"bench sync: {count:N0} changes over {campaignCount} campaigns ({batchSize} per message), {perEventCount:N0} one per message, naive {naiveCount:N0}; {Environment.ProcessorCount} cores, load average {ProcStat.LoadAverage()}; database {database.Database}, vhost {vhost}");
        await using var dataSource = NpgsqlDataSource.Create(database);
        var campaigns = new Guid[campaignCount];
        await using (var connection = await dataSource.OpenConnectionAsync(cancel))
        {
            for (var i = 0; i < campaignCount; i++)
            {
                campaigns[i] = await connection.ExecuteScalarAsync<Guid>("INSERT INTO campaigns (name, type, status, config) VALUES (@name, 'voice', 'active', '{}') RETURNING id", new { name = $"bench {i}" });
            }
        }

        var rows = Rows(count, campaigns);

        var copy = await Copy(dataSource, rows, cancel);
        Report("COPY (binary, 1 connection), reference", count, copy);
        await Truncate(dataSource);

        // the bench's peak from here: the in-process sync hosts, over the rows and messages the bench holds
        var rssReset = ProcStat.ResetOwnPeakRss();
        var (batched, batchedPublished) = await EndToEnd(world, database, dataSource, rows, batchSize, cancel);
        Report($"batched: ContactChangeBatch of {batchSize} → sync consumer", count, batched);
        Published(batchedPublished, batched);
        await Truncate(dataSource);

        var perEventRows = rows.Take(perEventCount).ToList();
        var perEvent = TimeSpan.Zero;
        if (perEventRows.Count > 0)
        {
            (perEvent, var perEventPublished) = await EndToEnd(world, database, dataSource, perEventRows, 1, cancel);
            Report("per event: one ContactChanged per message → sync consumer", perEventRows.Count, perEvent);
            Published(perEventPublished, perEvent);
            await Truncate(dataSource);
        }

        var naiveRows = rows.Take(naiveCount).ToList();
        var naive = TimeSpan.Zero;
        if (naiveRows.Count > 0)
        {
            naive = await Naive(dataSource, naiveRows, cancel);
            Report("naive: one INSERT … ON CONFLICT + commit per change (no broker: its best case)", naiveRows.Count, naive);
        }

        var copyRate = count / copy.TotalSeconds;
        var batchedRate = count / batched.TotalSeconds;
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"batched time / COPY time: {batched.TotalSeconds / copy.TotalSeconds:0.00}×; batched rate / COPY rate: {batchedRate / copyRate:0.00}"));
        if (naiveRows.Count > 0)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"batched rate / naive rate: {batchedRate / (naiveRows.Count / naive.TotalSeconds):0.0}×"));
        }

        var benchPeak = ProcStat.PeakRssMiB(Environment.ProcessId);
        IReadOnlyList<ConsumerSeries.Result> series = [];
        if (consumerCounts.Count > 0)
        {
            series = await new ConsumerSeries(cli!, database, dataSource, rabbit, vhost, sync.CampaignWaits).Run(targets, consumerCounts, rows, batchSize, cancel);
            ConsumerSeries.Table(series, copy, count);
        }

        // the clock runs from the first publish (bodies built beforehand) until the consumer's counter
        // reached every row; the sync host runs inside the bench
        var perEventRate = perEventRows.Count > 0 ? perEventRows.Count / perEvent.TotalSeconds : (double?)null;
        var table = new TargetTable()
            .Add(
                "single-change messages ≥ 10,000 rows/s end to end (first publish → last row committed)",
                perEventRate is { } r ? string.Create(CultureInfo.InvariantCulture, $"{r:N0} rows/s ({perEventRows.Count:N0} ContactChanged)") : "skipped (--per-event-count 0)",
                string.Create(CultureInfo.InvariantCulture, $"COPY {copyRate:N0} rows/s; batches of {batchSize}: {batchedRate:N0} rows/s = {batched.TotalSeconds / copy.TotalSeconds:0.00}× COPY time"),
                TargetTable.AtLeast(perEventRate, 10_000))
            .PeakRss(
                rssReset ? "the bench process, sync consumer in-process (peak over the end-to-end phases)" : "the bench process, sync consumer in-process (peak of the whole run)",
                benchPeak);
        if (series.Count > 0)
        {
            var peaks = series.Select(x => x.PeakRssMaxMiB).ToList();
            table.PeakRss(
                "the largest run --role sync process it started",
                peaks.All(p => p is not null) ? peaks.Max() : null);
        }

        table.Print(Console.Out);
        Console.WriteLine($"load average at the end: {ProcStat.LoadAverage()}");
        return 0;
    }

    /// <summary>Under an end-to-end line: how much of its time was publishing.</summary>
    static void Published(TimeSpan published, TimeSpan done) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  (published in {published.TotalSeconds:0.00} s, applied in {done.TotalSeconds:0.00} s)"));

    static void Report(string what, int rows, TimeSpan elapsed) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{what,-80} {rows,10:N0} rows {elapsed.TotalSeconds,8:0.00} s {rows / elapsed.TotalSeconds,10:N0} rows/s"));

    static List<Row> Rows(int count, Guid[] campaigns)
    {
        var rows = new List<Row>(count);
        for (var i = 0; i < count; i++)
        {
            // valid US numbers +1 201 2xx xxxx: one million distinct keys per campaign at most
            var phone = string.Create(CultureInfo.InvariantCulture, $"+1201{2_000_000 + (i / campaigns.Length):D7}");
            var metadata = string.Create(CultureInfo.InvariantCulture, $$"""{"name":"Contact {{i:D7}}","language":"en","segment":"s{{i % 17}}","score":{{i % 100}},"tags":["a","b"]}""");
            rows.Add(new Row(campaigns[i % campaigns.Length], phone, metadata));
        }

        if (!PhoneNormalizer.IsE164(rows[0].Phone, out var reason) || !PhoneNormalizer.IsE164(rows[^1].Phone, out reason))
        {
            throw new InvalidOperationException($"bench phone numbers are not valid: {reason}");
        }

        return rows;
    }

    static async Task<TimeSpan> Copy(NpgsqlDataSource dataSource, List<Row> rows, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        await using var connection = await dataSource.OpenConnectionAsync(cancel);
        await using (var writer = await connection.BeginBinaryImportAsync("COPY contacts (campaign_id, phone_number, metadata, version) FROM STDIN (FORMAT BINARY)", cancel))
        {
            foreach (var row in rows)
            {
                await writer.StartRowAsync(cancel);
                await writer.WriteAsync(row.CampaignId, NpgsqlDbType.Uuid, cancel);
                await writer.WriteAsync(row.Phone, NpgsqlDbType.Text, cancel);
                await writer.WriteAsync(row.Metadata, NpgsqlDbType.Jsonb, cancel);
                await writer.WriteAsync(1L, NpgsqlDbType.Bigint, cancel);
            }

            await writer.CompleteAsync(cancel);
        }

        return clock.Elapsed;
    }

    static async Task<TimeSpan> Naive(NpgsqlDataSource dataSource, List<Row> rows, CancellationToken cancel)
    {
        const string upsert = """
            INSERT INTO contacts (campaign_id, phone_number, metadata, version) VALUES (@CampaignId, @Phone, @Metadata::jsonb, 1)
            ON CONFLICT (campaign_id, phone_number) DO UPDATE SET metadata = excluded.metadata, version = excluded.version
                WHERE contacts.version < excluded.version
            """;
        var clock = Stopwatch.StartNew();
        await using var connection = await dataSource.OpenConnectionAsync(cancel);
        foreach (var row in rows)
        {
            await connection.ExecuteAsync(new CommandDefinition(upsert, row, cancellationToken: cancel));
        }

        return clock.Elapsed;
    }

    /// <summary>
    /// Publishes the rows (raw JSON, sliding confirm window) while a sync host applies them; the clock
    /// runs from the first publish until the host has committed the last row.
    /// </summary>
    static async Task<(TimeSpan Done, TimeSpan Published)> EndToEnd(BenchEnvironment world, NpgsqlConnectionStringBuilder database, NpgsqlDataSource dataSource, List<Row> rows, int perMessage, CancellationToken cancel)
    {
        var settings = world.HostSettings(database);
        foreach (var (key, value) in ConsumerLimits(perMessage))
        {
            settings[key] = value;
        }

        // the upstream publisher is not under test: its JSON is built before the clock starts, so
        // it does not take the two cores from the path that is measured (an upstream system runs elsewhere)
        var messages = Messages(rows, perMessage);
        using var host = PipelineHost.CreateBuilder([Role.Sync], settings).Build();
        using var applied = new AppliedRows(host.Services.GetRequiredService<IMeterFactory>(), rows.Count);
        await host.StartAsync(cancel);
        await host.Services.GetRequiredService<IBusControl>().WaitForHealthStatus(BusHealthStatus.Healthy, TimeSpan.FromSeconds(30));
        try
        {
            await using var connection = await BrokerConnection.Connect(world.Rabbit, "campaign-events-bench publisher", cancel);
            var clock = Stopwatch.StartNew();
            var published = await PublishAll(connection, messages, perMessage, clock, cancel);
            await applied.All(TimeSpan.FromSeconds(60), cancel);
            var done = clock.Elapsed;

            // the counter is the consumer's own word: the table must agree
            await using var db = await dataSource.OpenConnectionAsync(cancel);
            var inTable = await db.ExecuteScalarAsync<long>("SELECT count(*) FROM contacts");
            if (inTable != rows.Count)
            {
                throw new InvalidOperationException($"the sync consumer reported {rows.Count:N0} rows applied, but the table holds {inTable:N0}");
            }

            return (done, published);
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>
    /// The sync consumer's batch and prefetch for messages of <paramref name="perMessage"/> changes,
    /// the same for the in-process host and the consumer processes: single changes in the
    /// defaults' batches of 100 messages (prefetch 400), larger messages about 10,000 changes a batch.
    /// </summary>
    internal static Dictionary<string, string> ConsumerLimits(int perMessage)
    {
        var messagesPerBatch = perMessage == 1 ? 100 : Math.Max(1, 10_000 / perMessage);
        return new Dictionary<string, string>
        {
            ["Sync:BatchMessageLimit"] = messagesPerBatch.ToString(CultureInfo.InvariantCulture),
            ["Sync:PrefetchCount"] = (messagesPerBatch * 4).ToString(CultureInfo.InvariantCulture),
        };
    }

    /// <summary>Publishes pre-built bodies, persistent, with publisher confirms; returns the clock's time when the last was confirmed.</summary>
    internal static async Task<TimeSpan> PublishAll(IConnection connection, List<(string Exchange, ReadOnlyMemory<byte> Body)> messages, int perMessage, Stopwatch clock, CancellationToken cancel)
    {
        // our own sliding window instead of the client's default limiter (128 outstanding, throttled from 64)
        await using var channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true, outstandingPublisherConfirmationsRateLimiter: null),
            cancel);
        var properties = new BasicProperties { ContentType = "application/json", DeliveryMode = DeliveryModes.Persistent };
        using var window = new SemaphoreSlim(perMessage == 1 ? 1000 : 20);
        clock.Restart();
        var pending = new List<Task>(messages.Count);
        foreach (var (exchange, body) in messages)
        {
            await window.WaitAsync(cancel);
            pending.Add(Publish(exchange, body));
        }

        await Task.WhenAll(pending);
        return clock.Elapsed;

        async Task Publish(string exchange, ReadOnlyMemory<byte> body)
        {
            try
            {
                await channel.BasicPublishAsync(exchange, "", false, properties, body, cancel);
            }
            finally
            {
                window.Release();
            }
        }
    }

    internal static List<(string Exchange, ReadOnlyMemory<byte> Body)> Messages(List<Row> rows, int perMessage)
    {
        var occurredAt = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture);
        var messages = new List<(string, ReadOnlyMemory<byte>)>(rows.Count / perMessage + 1);
        foreach (var chunk in rows.Chunk(perMessage))
        {
            var items = chunk.Select(r => $$"""{"eventId":"{{Guid.NewGuid()}}","campaignId":"{{r.CampaignId}}","phoneNumber":"{{r.Phone}}","version":1,"occurredAt":"{{occurredAt}}","metadata":{{r.Metadata}}}""");
            messages.Add(perMessage == 1
                ? (Topology.ContactChangedExchange, Encoding.UTF8.GetBytes(items.Single()))
                : (Topology.ContactChangeBatchExchange, Encoding.UTF8.GetBytes($$"""{"batchId":"{{Guid.NewGuid()}}","changes":[{{string.Join(",", items)}}]}""")));
        }

        return messages;
    }

    internal static async Task Truncate(NpgsqlDataSource dataSource)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await connection.ExecuteAsync("TRUNCATE contacts, contact_tombstones");
        await connection.ExecuteAsync("VACUUM ANALYZE contacts");
    }
}
