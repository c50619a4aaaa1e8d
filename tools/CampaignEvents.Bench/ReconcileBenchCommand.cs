using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using CampaignEvents.Cli.Commands;
using CampaignEvents.Contracts.Reconciliation;
using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Infrastructure.Database;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.Infrastructure.Phones;
using CampaignEvents.Reconciliation;
using CampaignEvents.Reconciliation.LocalSide;
using CampaignEvents.Source.ReconciliationSide;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace CampaignEvents.Bench;

/// <summary>
/// <c>campaign-events-bench reconcile</c>: N contacts over one or more campaigns, identical in a
/// throwaway local database and a throwaway source database (binary COPY), on a throwaway vhost.
/// Times the confirmation of consistency through the broker against one plain SQL digest scan of
/// each side (both at once) measured in the same run: requested by the bench (host started), and
/// as an operator runs it, a <c>campaign-events reconcile --all</c> process from its start to its
/// exit. Then injects 100 drifted rows into the first campaign and times finding them.
/// </summary>
public static class ReconcileBenchCommand
{
    const string SourceSchema = """
        CREATE TABLE campaigns (id uuid PRIMARY KEY, name text NOT NULL);
        CREATE TABLE contacts (
            campaign_id uuid NOT NULL REFERENCES campaigns (id),
            phone_number text NOT NULL,
            metadata jsonb NOT NULL DEFAULT '{}',
            UNIQUE (campaign_id, phone_number));
        """;

    const string ReferenceScan = """
        SELECT (k & 255)::int, count(*), bit_xor(r)
        FROM (SELECT hashtextextended(phone_number, 0) AS k, hashtextextended(phone_number || '|' || metadata::text, 1) AS r
              FROM contacts WHERE campaign_id = @campaign) h
        GROUP BY 1
        """;

    /// <summary>How long a bulk step (COPY, ANALYZE, a reference scan) may take: millions of rows.</summary>
    static readonly TimeSpan BulkTimeout = TimeSpan.FromHours(1);

    public static Command Create()
    {
        var count = new Option<int>("--count") { Description = "Contacts in the campaign.", DefaultValueFactory = _ => 1_000_000 };
        var drift = new Option<int>("--drift") { Description = "Drifted rows in the second measurement.", DefaultValueFactory = _ => 100 };
        var campaigns = new Option<int>("--campaigns") { Description = "Campaigns the contacts are spread over.", DefaultValueFactory = _ => 1 };
        var cli = new Option<FileInfo?>("--cli")
        {
            Description = "The campaign-events program whose `reconcile --all` is timed as a process, its executable or campaign-events.dll. By default the build beside this tool (the project reference puts it there).",
        };
        var command = new Command("reconcile", "Time confirming campaigns consistent (against one plain SQL digest scan in the same run; requested in-process and as a `campaign-events reconcile --all` process) and finding drifted rows, in throwaway databases and vhost.")
        {
            count, drift, campaigns, cli,
        };
        command.SetAction((parse, cancel) => Failures.Guard(() => Run(parse.GetValue(count), parse.GetValue(drift), parse.GetValue(campaigns), parse.GetValue(cli), Console.Out, cancel)));
        return command;
    }

    public static async Task<int> Run(int count, int driftCount, int campaignCount, FileInfo? cliOption, TextWriter output, CancellationToken cancel)
    {
        if (campaignCount < 1 || campaignCount > count)
        {
            throw new SettingsException($"option --campaigns: {campaignCount} is not between 1 and --count ({count})");
        }

        var program = CampaignEventsProgram.Find(cliOption);
        await using var world = await BenchEnvironment.Create(Settings.Load(), cancel);
        var localDb = await world.Database("reconcile_local", DatabaseShape.Local, cancel);
        var sourceDb = await world.Database("reconcile_source", DatabaseShape.Empty, cancel);
        await output.WriteLineAsync($"bench reconcile: {count:N0} contacts in {campaignCount} campaign(s), {driftCount} drifted; databases {localDb.Database} / {sourceDb.Database}, vhost {world.Rabbit.VirtualHost} (all dropped at the end)");
        await using var local = NpgsqlDataSource.Create(localDb);
        await using var source = NpgsqlDataSource.Create(sourceDb);
        await Execute(source, SourceSchema, cancel);

        var campaigns = Enumerable.Range(0, campaignCount).Select(_ => Guid.NewGuid()).ToArray();
        var campaign = campaigns[0];
        var phones = Phones(count);
        var fill = Stopwatch.StartNew();
        await Task.WhenAll(
            Fill(local, "INSERT INTO campaigns (id, name, type, status) VALUES (@id, 'bench', 'voice', 'active')", campaigns, phones, cancel),
            Fill(source, "INSERT INTO campaigns (id, name) VALUES (@id, 'bench')", campaigns, phones, cancel));
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"filled both sides by binary COPY in {fill.Elapsed.TotalSeconds:0.0} s"));

        var overrides = world.HostSettings(localDb, sourceDb);
        overrides["Reconciliation:Settle"] = "00:00:00.500";
        var rssReset = ProcStat.ResetOwnPeakRss();
        var hostStart = Stopwatch.StartNew();
        using var host = BuildHost(overrides);
        await host.StartAsync(cancel);
        var hostStarted = hostStart.Elapsed.TotalSeconds;
        try
        {
            var client = host.Services.GetRequiredService<IRequestClient<ReconcileCampaign>>();

            // warm both sides' caches once, untimed, so the reference and the run read the same way
            await Reference(local, source, campaigns, cancel);
            await ReconcileAll(client, campaigns, cancel);

            var references = new List<(double Both, double Local, double Source)>();
            var productScans = new List<double>();
            var runs = new List<double>();
            var processRuns = new List<CliRun>();
            var emptyRuns = new List<CliRun>();
            CampaignReconciled? clean = null;
            for (var i = 0; i < 3; i++)
            {
                references.Add(await Reference(local, source, campaigns, cancel));
                productScans.Add(await ProductDigests(host.Services, campaigns, cancel));
                var watch = Stopwatch.StartNew();
                clean = Combined(await ReconcileAll(client, campaigns, cancel));
                runs.Add(watch.Elapsed.TotalSeconds);
                processRuns.Add(await ReconcileProcess(program, overrides, campaignCount, cancel));
            }

            // a campaign both sides hold without contacts, after the `--all` runs (which would list it)
            var empty = Guid.NewGuid();
            await Execute(local, "INSERT INTO campaigns (id, name, type, status) VALUES (@id, 'bench, empty', 'voice', 'active')", empty, cancel);
            await Execute(source, "INSERT INTO campaigns (id, name) VALUES (@id, 'bench, empty')", empty, cancel);
            for (var i = 0; i < 3; i++)
            {
                emptyRuns.Add(await EmptyReconcileProcess(program, overrides, empty, cancel));
            }

            var reference = Median([.. references.Select(r => r.Both)]);
            var consistent = Median(runs);
            var ratio = consistent / reference;
            var process = Median([.. processRuns.Select(r => r.Seconds)]);
            var processRatio = process / reference;
            var processPeak = processRuns.Max(r => r.PeakRssMiB);
            var fixedCost = Median([.. emptyRuns.Select(r => r.Seconds)]);
            var productScan = Median(productScans);
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"reference: one SQL digest scan of each side, both at once: {reference:0.000} s (median of 3: {string.Join(", ", references.Select(r => r.Both.ToString("0.000", CultureInfo.InvariantCulture)))}; local alone {Median([.. references.Select(r => r.Local)]):0.000} s, source alone {Median([.. references.Select(r => r.Source)]):0.000} s)"));
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"identical: reconcile confirmed {clean!.Outcome} ({clean.SourceContacts:N0} = {clean.LocalContacts:N0} contacts) in {consistent:0.000} s (median of 3: {string.Join(", ", runs.Select(r => r.ToString("0.000", CultureInfo.InvariantCulture)))}) = {ratio:0.00}x the reference"));
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"as an operator runs it: `campaign-events reconcile --all` ({program}) from process start to exit 0 in {process:0.000} s (median of 3: {string.Join(", ", processRuns.Select(r => r.Seconds.ToString("0.000", CultureInfo.InvariantCulture)))}) = {processRatio:0.00}x the reference; {Math.Max(0, process - consistent):0.000} s more than the bench's own requests: the process's start, its host and bus, listing the campaigns"));
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"the process's fixed cost: `campaign-events reconcile --campaign <one without contacts>` (its start, host and bus, one request whose scans find nothing, its stop) from start to exit 0 in {fixedCost:0.000} s (median of 3: {string.Join(", ", emptyRuns.Select(r => r.Seconds.ToString("0.000", CultureInfo.InvariantCulture)))}) = {fixedCost / reference:0.00}x the reference; the 1.5x target leaves {Math.Max(0, (1.5 * reference) - consistent):0.000} s for it beside the bench's own requests"));
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"where the time goes: host start (both sides and the bus, in the bench process; outside the ratio) {hostStarted:0.000} s; clean reconcile {consistent:0.000} s = the reference's plain scans {reference:0.000} s + {Math.Max(0, productScan - reference):0.000} s more for the product's own digest queries (local and source side called directly, both at once, no broker: {productScan:0.000} s, median of 3) + {Math.Max(0, consistent - productScan):0.000} s of the rest (the requests and answers through the broker, comparing the buckets, storing the run; a clean campaign has no settle)"));

            var injected = await InjectDrift(local, campaign, [.. phones.Where((_, i) => i % campaignCount == 0)], driftCount, cancel);
            var driftWatch = Stopwatch.StartNew();
            var drifted = await Reconcile(client, campaign, cancel);
            var driftSeconds = driftWatch.Elapsed.TotalSeconds;
            var found = drifted.Drift.Select(d => (d.Kind, d.PhoneNumber)).ToHashSet();
            var allFound = found.SetEquals(injected);
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"drifted: {injected.Count} rows injected ({injected.Count(k => k.Kind == DriftKinds.Different)} different, {injected.Count(k => k.Kind == DriftKinds.MissingLocally)} missing locally, {injected.Count(k => k.Kind == DriftKinds.ExtraLocally)} extra locally); reconcile reported {drifted.Drift.Count} in {driftSeconds:0.000} s = {driftSeconds / reference:0.00}x the reference, including the 0.5 s settle window; {(allFound ? "all found, none else" : "MISMATCH")}"));

            // the clock runs from the request sent by the bench to the answer received (host already
            // started, in the bench process: no campaign-events process start in it)
            var table = new TargetTable()
                .Add(
                    "clean reconcile ≤ 1.5× one SQL digest scan of both sides (request → answer, host started)",
                    string.Create(CultureInfo.InvariantCulture, $"{consistent:0.000} s = {ratio:0.00}× ({clean.Outcome}, median of 3)"),
                    string.Create(CultureInfo.InvariantCulture, $"both sides' digest scans at once {reference:0.000} s, median of 3"),
                    TargetTable.AtMost(ratio, 1.5))
                .Add(
                    "clean `reconcile --all` ≤ 1.5× one SQL digest scan of both sides (campaign-events process start → exit)",
                    string.Create(CultureInfo.InvariantCulture, $"{process:0.000} s = {processRatio:0.00}× ({campaignCount} campaign(s), median of 3)"),
                    string.Create(CultureInfo.InvariantCulture, $"both sides' digest scans at once {reference:0.000} s, median of 3"),
                    TargetTable.AtMost(processRatio, 1.5))
                .Add(
                    "drifted rows found exactly",
                    string.Create(CultureInfo.InvariantCulture, $"{drifted.Drift.Count} reported, {found.Intersect(injected).Count()} of them injected"),
                    string.Create(CultureInfo.InvariantCulture, $"{injected.Count} injected"),
                    allFound ? Verdict.Met : Verdict.NotMet)
                .PeakRss("the `campaign-events reconcile --all` process (sampled every 50 ms, largest of 3)", processPeak)
                .BenchProcessPeakRss(rssReset);
            table.Print(output);
            return allFound && clean.Outcome == ReconciliationOutcomes.Consistent ? 0 : 2;
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>Only the two sides of reconciliation: the bench must not start the source adapter's capture.</summary>
    static IHost BuildHost(Dictionary<string, string?> overrides)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory, EnvironmentName = Settings.EnvironmentName(), Args = [] });
        // the settings every command reads, in the same order, with the run's world over them
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddProgramSettings(overrides);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddCampaignEventsDatabases();
        builder.AddReconciliationSourceSide();
        builder.AddReconciliation();
        builder.AddCampaignEventsBus();
        return builder.Build();
    }

    /// <summary>
    /// The digest queries reconcile itself runs, called directly in the bench's host without the
    /// broker: the local side's buckets and the source side's buckets (in its snapshot), both at
    /// once, the campaigns in turn. The difference to the plain reference is the cost of what the
    /// product's queries do more (the source's mapping and phone checks, the local tombstones).
    /// </summary>
    static async Task<double> ProductDigests(IServiceProvider services, Guid[] campaigns, CancellationToken cancel)
    {
        var localSide = services.GetRequiredService<LocalContacts>();
        var sourceSide = services.GetRequiredService<SourceContacts>();
        var watch = Stopwatch.StartNew();
        foreach (var campaign in campaigns)
        {
            await Task.WhenAll(
                localSide.Buckets(campaign, cancel),
                sourceSide.Digest(new DigestSourceContacts { CampaignId = campaign, Level = DigestLevel.Buckets }, cancel));
        }

        return watch.Elapsed.TotalSeconds;
    }

    /// <summary>Each campaign in turn, as <c>reconcile --all</c> asks for them.</summary>
    static async Task<List<CampaignReconciled>> ReconcileAll(IRequestClient<ReconcileCampaign> client, Guid[] campaigns, CancellationToken cancel)
    {
        var reports = new List<CampaignReconciled>();
        foreach (var campaign in campaigns)
        {
            reports.Add(await Reconcile(client, campaign, cancel));
        }

        return reports;
    }

    /// <summary>The campaigns' reports as one: consistent only when every campaign is; the counts summed.</summary>
    static CampaignReconciled Combined(List<CampaignReconciled> reports) => reports[0] with
    {
        Outcome = reports.All(r => r.Outcome == ReconciliationOutcomes.Consistent) ? ReconciliationOutcomes.Consistent : reports.First(r => r.Outcome != ReconciliationOutcomes.Consistent).Outcome,
        SourceContacts = reports.Sum(r => r.SourceContacts),
        LocalContacts = reports.Sum(r => r.LocalContacts),
    };

    sealed record CliRun(double Seconds, double? PeakRssMiB);

    /// <summary>
    /// <c>campaign-events reconcile --all</c> as a separate process with this run's settings in its
    /// environment, timed from its start to its exit; its peak RSS read from /proc while it runs.
    /// Anything but exit 0 with every campaign consistent fails the bench.
    /// </summary>
    static Task<CliRun> ReconcileProcess(CampaignEventsProgram program, Dictionary<string, string?> settings, int campaignCount, CancellationToken cancel) =>
        ReconcileProcess(program, settings, ["--all"], campaignCount, cancel);

    /// <summary>
    /// The fixed cost of a <c>campaign-events reconcile</c> process, whatever the row count: its start,
    /// host and bus, one request whose scans find nothing, and its stop; timed as <c>reconcile
    /// --campaign</c> of a campaign both sides hold without contacts (consistent, 0 = 0 contacts).
    /// </summary>
    static Task<CliRun> EmptyReconcileProcess(CampaignEventsProgram program, Dictionary<string, string?> settings, Guid emptyCampaign, CancellationToken cancel) =>
        ReconcileProcess(program, settings, ["--campaign", emptyCampaign.ToString()], 1, cancel);

    static async Task<CliRun> ReconcileProcess(CampaignEventsProgram program, Dictionary<string, string?> settings, string[] campaigns, int campaignCount, CancellationToken cancel)
    {
        var info = program.StartInfo();
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        foreach (var arg in (string[])["reconcile", .. campaigns, "--json"])
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in settings)
        {
            info.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var watch = Stopwatch.StartNew();
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"{program} did not start");
        var stdout = process.StandardOutput.ReadToEndAsync(cancel);
        var stderr = process.StandardError.ReadToEndAsync(cancel);
        double? peak = null;
        var exited = process.WaitForExitAsync(cancel);
        while (!exited.IsCompleted)
        {
            peak = ProcStat.PeakRssMiB(process.Id) is { } p ? Math.Max(p, peak ?? 0) : peak;
            await Task.WhenAny(exited, Task.Delay(50, cancel));
        }

        await exited;
        var seconds = watch.Elapsed.TotalSeconds;
        var output = await stdout;
        var error = await stderr;
        var consistent = output.Split('"' + ReconciliationOutcomes.Consistent + '"').Length - 1;
        if (process.ExitCode != 0 || consistent != campaignCount)
        {
            throw new InvalidOperationException($"`campaign-events reconcile {string.Join(' ', campaigns)}` exited {process.ExitCode} with {consistent} of {campaignCount} campaigns consistent: {error.Trim()} {output[..Math.Min(output.Length, 2000)]}");
        }

        return new CliRun(seconds, peak);
    }

    static async Task<CampaignReconciled> Reconcile(IRequestClient<ReconcileCampaign> client, Guid campaign, CancellationToken cancel)
    {
        var response = await client.Ask<ReconcileCampaign, CampaignReconciled>(new ReconcileCampaign { CampaignId = campaign }, TimeSpan.FromMinutes(10), cancel);
        return response.Message.Outcome == ReconciliationOutcomes.Error
            ? throw new InvalidOperationException($"reconcile failed: {response.Message.Error}")
            : response.Message;
    }

    /// <summary>
    /// One digest scan of each side per campaign, both sides at once (as reconcile scans them), the
    /// campaigns in turn: the wall time, and each side's own.
    /// </summary>
    static async Task<(double Both, double Local, double Source)> Reference(NpgsqlDataSource local, NpgsqlDataSource source, Guid[] campaigns, CancellationToken cancel)
    {
        var watch = Stopwatch.StartNew();
        double localSeconds = 0, sourceSeconds = 0;
        foreach (var campaign in campaigns)
        {
            var sides = await Task.WhenAll(Scan(local, campaign, cancel), Scan(source, campaign, cancel));
            localSeconds += sides[0];
            sourceSeconds += sides[1];
        }

        return (watch.Elapsed.TotalSeconds, localSeconds, sourceSeconds);
    }

    static async Task<double> Scan(NpgsqlDataSource side, Guid campaign, CancellationToken cancel)
    {
        var watch = Stopwatch.StartNew();
        await using var command = side.CreateCommand(ReferenceScan);
        command.CommandTimeout = (int)BulkTimeout.TotalSeconds;
        command.Parameters.AddWithValue("campaign", campaign);
        await using var reader = await command.ExecuteReaderAsync(cancel);
        while (await reader.ReadAsync(cancel))
        {
        }

        return watch.Elapsed.TotalSeconds;
    }

    /// <summary>Valid US numbers in E.164 (checked with libphonenumber: an invalid one would count as rejected at source).</summary>
    static string[] Phones(int count)
    {
        var phones = new List<string>(count);
        var random = new Random(42);
        var seen = new HashSet<string>();
        while (phones.Count < count)
        {
            var phone = string.Create(CultureInfo.InvariantCulture, $"+1{random.Next(201, 990)}{random.Next(200, 1000)}{random.Next(0, 10000):D4}");
            if (seen.Add(phone) && PhoneNormalizer.IsE164(phone, out _))
            {
                phones.Add(phone);
            }
        }

        return [.. phones];
    }

    static string Metadata(int i) => string.Create(CultureInfo.InvariantCulture, $$"""{"name": "Contact {{i}}", "tier": "{{(i % 3 == 0 ? "gold" : "silver")}}", "score": {{i % 1000}}, "tags": ["bench", "t{{i % 7}}"]}""");

    /// <summary>Row i belongs to campaign i mod the campaigns' count.</summary>
    static async Task Fill(NpgsqlDataSource target, string insertCampaign, Guid[] campaigns, string[] phones, CancellationToken cancel)
    {
        await using var connection = await target.OpenConnectionAsync(cancel);
        foreach (var campaign in campaigns)
        {
            await using var command = new NpgsqlCommand(insertCampaign, connection);
            command.Parameters.AddWithValue("id", campaign);
            await command.ExecuteNonQueryAsync(cancel);
        }

        await using (var import = await connection.BeginBinaryImportAsync("COPY contacts (campaign_id, phone_number, metadata) FROM STDIN (FORMAT BINARY)", cancel))
        {
            // millions of rows take longer than a command's default 30 s to complete
            import.Timeout = BulkTimeout;
            for (var i = 0; i < phones.Length; i++)
            {
                await import.StartRowAsync(cancel);
                await import.WriteAsync(campaigns[i % campaigns.Length], NpgsqlDbType.Uuid, cancel);
                await import.WriteAsync(phones[i], NpgsqlDbType.Text, cancel);
                await import.WriteAsync(Metadata(i), NpgsqlDbType.Jsonb, cancel);
            }

            await import.CompleteAsync(cancel);
        }

        await using var analyze = new NpgsqlCommand("ANALYZE contacts", connection) { CommandTimeout = (int)BulkTimeout.TotalSeconds };
        await analyze.ExecuteNonQueryAsync(cancel);
    }

    /// <summary>Changes the metadata of 40 %, deletes 30 % and adds 30 % extra rows, locally only.</summary>
    static async Task<HashSet<(string Kind, string Phone)>> InjectDrift(NpgsqlDataSource local, Guid campaign, string[] phones, int count, CancellationToken cancel)
    {
        var random = new Random(7);
        var picked = Enumerable.Range(0, phones.Length).OrderBy(_ => random.Next()).Take(count * 7 / 10).ToArray();
        var different = picked.Take(count * 4 / 10).Select(i => phones[i]).ToArray();
        var deleted = picked.Skip(count * 4 / 10).Select(i => phones[i]).ToArray();
        var existing = phones.ToHashSet();
        var extra = Phones(phones.Length + (count * 2)).Where(p => !existing.Contains(p)).Take(count - different.Length - deleted.Length).ToArray();

        await using var connection = await local.OpenConnectionAsync(cancel);
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("UPDATE contacts SET metadata = metadata || '{\"drift\": true}' WHERE campaign_id = $1 AND phone_number = ANY($2)")
                {
                    Parameters = { new() { Value = campaign }, new() { Value = different } },
                },
                new NpgsqlBatchCommand("DELETE FROM contacts WHERE campaign_id = $1 AND phone_number = ANY($2)")
                {
                    Parameters = { new() { Value = campaign }, new() { Value = deleted } },
                },
                new NpgsqlBatchCommand("INSERT INTO contacts (campaign_id, phone_number, metadata) SELECT $1, p, '{\"extra\": true}' FROM unnest($2::text[]) AS p")
                {
                    Parameters = { new() { Value = campaign }, new() { Value = extra } },
                },
            },
        };
        await batch.ExecuteNonQueryAsync(cancel);
        return
        [
            .. different.Select(p => (DriftKinds.Different, p)),
            .. deleted.Select(p => (DriftKinds.MissingLocally, p)),
            .. extra.Select(p => (DriftKinds.ExtraLocally, p)),
        ];
    }

    static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    static async Task Execute(NpgsqlDataSource target, string sql, CancellationToken cancel)
    {
        await using var command = target.CreateCommand(sql);
        await command.ExecuteNonQueryAsync(cancel);
    }

    static async Task Execute(NpgsqlDataSource target, string sql, Guid id, CancellationToken cancel)
    {
        await using var command = target.CreateCommand(sql);
        command.Parameters.AddWithValue("id", id);
        await command.ExecuteNonQueryAsync(cancel);
    }
}
