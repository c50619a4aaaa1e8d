using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.Infrastructure.Phones;
using CampaignEvents.Sync.ApplyContactChanges;
using CampaignEvents.Cli.Hosting;
using CampaignEvents.IntegrationTests.Pipeline;
using CampaignEvents.TestSupport;
using CampaignEvents.TestSupport.Stack;
using Dapper;
using RabbitMQ.Client;
using Xunit;
using static CampaignEvents.IntegrationTests.Sync.SyncHarness;

namespace CampaignEvents.IntegrationTests.Sync;

/// <summary>
/// The bad-input suite (issue 13, part 2): 10,000 messages, the valid mixed among the invalid,
/// published at full speed to the contract's exchanges, consumed by a sync role running as its own
/// process. Every valid event is applied (the table equals an oracle computed here by last writer
/// wins), every invalid one is in its error queue once with its reason, the counts per reason are
/// the counts published, and the process neither crashes, stalls, nor grows without bound.
/// </summary>
[Trait("Category", "BadInput")]
public sealed class BadInputSuiteTests(ITestOutputHelper output)
{
    const int Total = 10_000;

    /// <summary>Everything settled well before this; a stall fails the test here.</summary>
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    /// <summary>Generous: the process needs ~150 MB; a leak proportional to the input would pass this.</summary>
    const long PeakRssBoundKb = 1024 * 1024;

    static readonly string ContactErrors = Topology.ErrorQueue(Topology.ContactChangesQueue);
    static readonly string CampaignErrors = Topology.ErrorQueue(Topology.CampaignChangesQueue);

    /// <summary>
    /// The reasons an invalid message is refused with, each a label and the pattern of its
    /// <c>MT-Fault-Message</c>. The first pattern that matches classifies a reason, so a batch
    /// (whose reason quotes its bad item's) comes first.
    /// </summary>
    static readonly (string Label, string Queue, Regex Reason)[] Reasons =
    [
        ("batch with one bad item", ContactErrors, Pattern(@"^1 invalid item\(s\) in the batch, none of its \d+ items applied: (changes|deletes)\[\d+\]\.")),
        ("unknown campaign", ContactErrors, Pattern(@"^unknown campaign [0-9a-f-]{36}: not in the local database after waiting")),
        ("not valid UTF-8", ContactErrors, Pattern(@"^the body is not valid UTF-8 at byte \d+$")),
        ("empty body", ContactErrors, Pattern(@"^the body is empty")),
        ("nested too deep", ContactErrors, Pattern(@"^the body is nested deeper than 64 levels")),
        ("not JSON", ContactErrors, Pattern(@"^the body is not JSON: ")),
        ("not a JSON object", ContactErrors, Pattern(@"^a contact event must be a JSON object, not ")),
        ("missing field", ContactErrors, Pattern(@"^(eventId|campaignId|phoneNumber|version|occurredAt|metadata) is missing$")),
        ("wrong-typed field", ContactErrors, Pattern(@"^(eventId|campaignId) must be a UUID string, not |^version must be a whole number, not |^phoneNumber must be a string, not |^occurredAt must be an ISO 8601 date and time, not ")),
        ("invalid phone", ContactErrors, Pattern(@"^phone number '[^']*' (is not in E\.164|is not a valid number|cannot be parsed)")),
        ("negative version", ContactErrors, Pattern(@"^version must not be negative \(-\d+\)$")),
        ("metadata not an object", ContactErrors, Pattern(@"^metadata must be a JSON object, not (array|string|number)")),
        ("metadata oversized", ContactErrors, Pattern(@"^metadata is \d+ bytes, above the limit of 65536 \(Sync:MaxMetadataBytes\)$")),
        ("lone surrogate", ContactErrors, Pattern(@"^metadata contains an unpaired surrogate \(\\ud[89a-f][0-9a-f]{2}\), which PostgreSQL jsonb cannot store$|^phoneNumber is not Unicode text")),
        ("delete carrying metadata", ContactErrors, Pattern(@"^a ContactDeleted carries no metadata")),
        // campaign events are read by MassTransit's raw JSON deserializer: its System.Text.Json reasons
        ("campaign: wrong-typed field", CampaignErrors, Pattern(@"^Cannot get the value of a token type '\w+' as a number|could not be converted to")),
        ("campaign: not JSON", CampaignErrors, Pattern(@"LineNumber: \d+ \| BytePositionInLine: \d+\.$")),
        ("campaign: missing field", CampaignErrors, Pattern(@"missing required properties|is missing")),
        ("campaign: negative version", CampaignErrors, Pattern(@"version must not be negative")),
        ("campaign: config not an object", CampaignErrors, Pattern(@"config must be a JSON object")),
    ];

    [Fact]
    public async Task Ten_thousand_good_and_bad_messages_at_full_speed_apply_every_valid_event_and_refuse_every_invalid_one_with_its_reason()
    {
        var clock = Stopwatch.StartNew();
        await using var database = new IsolatedDatabase();
        await database.InitializeAsync();
        await using var vhost = new IsolatedVhost();
        await vhost.InitializeAsync();

        var plan = new BadInputPlan(new Random(13));
        BadInputPlan.CheckPhones(plan);
        var (started, log) = await StartSyncProcess(database, vhost);
        using var process = started;
        try
        {
            await Eventually.Until(async () => await Consumers(vhost, Topology.ContactChangesQueue) > 0 && await Consumers(vhost, Topology.CampaignChangesQueue) > 0,
                TimeSpan.FromSeconds(60), () => $"the sync process consuming; it wrote:\n{Tail(log)}");
            await using var broker = await Connect(vhost.Rabbit);

            // the campaigns that exist before the flood, published like any upstream system would
            await Publish(broker, plan.KnownCampaigns);
            await Eventually.Until(
                async () => await Count(database.DataSource, "SELECT count(*) FROM campaigns") == plan.KnownCampaigns.Count,
                TimeSpan.FromSeconds(30), "the known campaigns applied");

            var publishing = Stopwatch.StartNew();
            await Publish(broker, plan.Flood);
            publishing.Stop();

            // the late campaigns' contacts wait in the broker; only then do their campaigns come
            await using (var channel = await broker.CreateChannelAsync())
            {
                var wait = Topology.WaitQueue(TimeSpan.FromSeconds(1));
                await Eventually.Until(async () => (await channel.QueueDeclarePassiveAsync(wait)).MessageCount > 0, TimeSpan.FromSeconds(30), "contacts waiting for their campaign");
            }

            Assert.Equal(0, await Count(database.DataSource, "SELECT count(*) FROM contacts WHERE campaign_id = ANY(@late)", new { late = plan.LateCampaignIds }));
            await Publish(broker, plan.LateCampaigns);
            Assert.Equal(Total, plan.KnownCampaigns.Count + plan.Flood.Count + plan.LateCampaigns.Count);

            // settled: every invalid message in its error queue, the table equal to the oracle, nothing in flight
            var expectedErrors = plan.Flood.Count(m => m.Label is not null);
            var expectedContactErrors = plan.Flood.Count(m => m.Label is not null && m.Queue == ContactErrors);
            var mismatch = "";
            uint contactErrors = 0, campaignErrors = 0;
            var settling = Eventually.Until(
                async () =>
                {
                    if (process.HasExited)
                    {
                        Assert.Fail($"the sync process exited ({process.ExitCode}); it wrote:\n{Tail(log)}");
                    }

                    contactErrors = await Ready(broker, ContactErrors);
                    campaignErrors = await Ready(broker, CampaignErrors);
                    return contactErrors >= expectedContactErrors
                        && campaignErrors >= expectedErrors - expectedContactErrors
                        && await Ready(broker, Topology.ContactChangesQueue) == 0
                        && await Ready(broker, Topology.WaitQueue(TimeSpan.FromSeconds(1))) == 0
                        && (mismatch = await CompareWithOracle(database, plan)) == "";
                },
                Deadline,
                () => $"not settled: {mismatch}; contact errors {contactErrors}/{expectedContactErrors}, campaign errors {campaignErrors}/{expectedErrors - expectedContactErrors}; the process wrote:\n{Tail(log)}");
            try
            {
                await settling;
            }
            catch (TimeoutException)
            {
                // say where the messages are and which reasons are wrong, then fail
                output.WriteLine(await Queues(vhost));
                output.WriteLine($"the table: {await CompareWithOracle(database, plan)}");
                var seen = await ReadAll(broker, ContactErrors);
                seen.AddRange(await ReadAll(broker, CampaignErrors));
                CheckErrors(plan, seen);
                throw;
            }

            var settled = clock.Elapsed;

            // every invalid message there once, with its reason; nothing else there
            var errors = await ReadAll(broker, ContactErrors);
            errors.AddRange(await ReadAll(broker, CampaignErrors));
            var byReason = CheckErrors(plan, errors);

            var peakKb = PeakRssKb(process.Id);
            await Campaigns(database, plan);

            // the process is still up, and ends cleanly on SIGTERM
            if (process.HasExited)
            {
                Assert.Fail($"the sync process exited ({process.ExitCode}); it wrote:\n{Tail(log)}");
            }

            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            using (var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
            {
                await process.WaitForExitAsync(patience.Token);
            }

            Report(plan, byReason, peakKb, publishing.Elapsed, settled, clock.Elapsed);
            Assert.Equal(0, process.ExitCode);
            Assert.True(peakKb < PeakRssBoundKb, $"the sync process peaked at {peakKb / 1024} MiB (VmHWM), above {PeakRssBoundKb / 1024} MiB");
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    /// <summary>
    /// Each error-queue message is one the plan published as invalid (matched by its body), its
    /// reason has the label the plan expects, and each invalid message is there exactly once.
    /// </summary>
    Dictionary<string, int> CheckErrors(BadInputPlan plan, List<(string Queue, byte[] Body, string Reason)> errors)
    {
        var expected = plan.Flood.Where(m => m.Label is not null).GroupBy(m => (m.Queue, Convert.ToBase64String(m.Body)))
            .ToDictionary(g => g.Key, g => (Label: g.First().Label!, Count: g.Count()));
        var byReason = new Dictionary<string, int>();
        var problems = new List<string>();
        foreach (var (queue, body, reason) in errors)
        {
            var label = Reasons.FirstOrDefault(r => r.Queue == queue && r.Reason.IsMatch(reason)).Label ?? $"{queue}: unclassified";
            byReason[label] = byReason.GetValueOrDefault(label) + 1;
            if (!expected.TryGetValue((queue, Convert.ToBase64String(body)), out var wanted) || wanted.Count == 0)
            {
                problems.Add($"not published as invalid, or there twice, in {queue}: {Show(body)} ({reason})");
                continue;
            }

            expected[(queue, Convert.ToBase64String(body))] = wanted with { Count = wanted.Count - 1 };
            if (wanted.Label != label)
            {
                problems.Add($"published as '{wanted.Label}', refused as '{label}': {Cut(reason)} — {Show(body)}");
            }
        }

        problems.AddRange(expected.Where(e => e.Value.Count > 0).Select(e => $"missing from {e.Key.Queue} ({e.Value.Label}): {Show(Convert.FromBase64String(e.Key.Item2))}"));
        var published = plan.Flood.Where(m => m.Label is not null).GroupBy(m => m.Label!).ToDictionary(g => g.Key, g => g.Count());
        foreach (var (label, queue, _) in Reasons)
        {
            output.WriteLine($"{label,-32} {queue,-24} published {published.GetValueOrDefault(label),5}  in the error queue {byReason.GetValueOrDefault(label),5}");
        }

        foreach (var problem in problems.GroupBy(p => p[..Math.Min(p.Length, 60)]).Select(g => $"{g.Count()} × {g.First()}").Take(40))
        {
            output.WriteLine(problem);
        }

        Assert.True(problems.Count == 0, $"{problems.Count} problems, first: {string.Join("\n", problems.Take(10))}");
        Assert.Equal(published.OrderBy(p => p.Key), byReason.OrderBy(p => p.Key));
        return byReason;
    }

    void Report(BadInputPlan plan, Dictionary<string, int> byReason, long peakKb, TimeSpan publishing, TimeSpan settled, TimeSpan total)
    {
        var valid = plan.Flood.Count(m => m.Label is null) + plan.KnownCampaigns.Count + plan.LateCampaigns.Count;
        var lines = new List<string>
        {
            $"bad-input suite: {Total} messages ({valid} valid carrying {plan.History.Count} contact events, {Total - valid} invalid), published in {publishing.TotalSeconds:0.0} s",
            $"settled {settled.TotalSeconds:0.0} s after the test began; whole test {total.TotalSeconds:0.0} s",
            $"sync process peak RSS (VmHWM): {peakKb / 1024.0:0.0} MiB; exit code 0 on SIGTERM",
            "errors by reason:",
        };
        lines.AddRange(byReason.OrderByDescending(r => r.Value).Select(r => $"  {r.Value,5}  {r.Key}"));
        foreach (var line in lines)
        {
            output.WriteLine(line);
            Console.WriteLine(line);
        }
    }

    /// <summary>Empty when the contacts and tombstones are exactly what last writer wins makes of the valid events; else the first differences.</summary>
    static async Task<string> CompareWithOracle(IsolatedDatabase database, BadInputPlan plan)
    {
        var oracle = new LwwTable();
        oracle.ApplyAll(plan.History);
        await using var connection = await database.DataSource.OpenConnectionAsync();
        var rows = (await connection.QueryAsync<(Guid CampaignId, string PhoneNumber, long Version, string Metadata)>(
            "SELECT campaign_id, phone_number, version, metadata::text FROM contacts")).ToList();
        var differences = new List<string>();
        if (rows.Count != oracle.Rows.Count)
        {
            differences.Add($"{rows.Count} contacts, {oracle.Rows.Count} expected");
        }

        foreach (var row in rows)
        {
            if (!oracle.Rows.TryGetValue((row.CampaignId, row.PhoneNumber), out var want))
            {
                differences.Add($"extra {row.CampaignId} {row.PhoneNumber} v{row.Version}");
            }
            else if (want.Version != row.Version || !JsonNode.DeepEquals(JsonNode.Parse(want.Metadata), JsonNode.Parse(row.Metadata)))
            {
                differences.Add($"{row.CampaignId} {row.PhoneNumber}: v{row.Version} {Cut(row.Metadata)}, expected v{want.Version} {Cut(want.Metadata)}");
            }

            if (differences.Count > 5)
            {
                break;
            }
        }

        // a batch collapses a delete that an newer change of its key beats, so a tombstone may be
        // missing or older than the oracle's; but each is a published delete, and a key whose
        // newest event is a delete has that delete's tombstone
        var tombstones = (await connection.QueryAsync<(Guid CampaignId, string PhoneNumber, long Version)>(
            "SELECT campaign_id, phone_number, version FROM contact_tombstones")).ToDictionary(t => (t.CampaignId, t.PhoneNumber), t => t.Version);
        var deletes = plan.History.Where(c => c.IsDelete).Select(c => (c.Key, c.Version)).ToHashSet();
        var unpublished = tombstones.Where(t => !deletes.Contains((t.Key, t.Value))).Select(t => $"{t.Key} v{t.Value}").ToList();
        var lost = LwwTable.Collapse(plan.History).Where(c => c.IsDelete && tombstones.GetValueOrDefault(c.Key, -1) != c.Version).Select(c => $"{c.Key} v{c.Version}").ToList();
        if (unpublished.Count + lost.Count > 0)
        {
            differences.Add($"tombstones of no published delete: {string.Join(", ", unpublished.Take(3))}; newest deletes without their tombstone: {string.Join(", ", lost.Take(3))}");
        }

        return string.Join("; ", differences);
    }

    /// <summary>Each campaign holds the name of its highest version: stale replays changed nothing.</summary>
    static async Task Campaigns(IsolatedDatabase database, BadInputPlan plan)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync();
        var stored = (await connection.QueryAsync<(Guid Id, string Name, long Version)>("SELECT id, name, version FROM campaigns"))
            .ToDictionary(c => c.Id, c => (c.Name, c.Version));
        Assert.Equal(plan.CampaignNames.Count, stored.Count);
        foreach (var (id, (name, version)) in plan.CampaignNames)
        {
            Assert.Equal((name, version), stored[id]);
        }
    }

    static async Task<(Process Process, StringBuilder Log)> StartSyncProcess(IsolatedDatabase database, IsolatedVhost vhost)
    {
        var environment = new Dictionary<string, string?>
        {
            ["ConnectionStrings__Contacts"] = database.Connection.ConnectionString,
            ["RabbitMq__Host"] = vhost.Rabbit.Host,
            ["RabbitMq__Port"] = vhost.Rabbit.Port.ToString(CultureInfo.InvariantCulture),
            ["RabbitMq__VirtualHost"] = vhost.Rabbit.VirtualHost,
            ["RabbitMq__Username"] = vhost.Rabbit.Username,
            ["RabbitMq__Password"] = vhost.Rabbit.Password,
            ["Observability__MetricsPort"] = "0",
            ["Observability__HealthPort"] = "0",
            ["Logging__LogLevel__Default"] = "Warning",
        };

        // five short steps: a campaign that never comes is given up on after about 5 s
        for (var i = 0; i < 5; i++)
        {
            environment[$"Sync__CampaignWaitIntervals__{i}"] = "00:00:01";
        }

        // deployed as operators do (migrate --topology, as the administrator), run as the sync job
        await RoleHosts.DeclareTopology([Role.Sync], environment);
        foreach (var (key, value) in Identities.Environment(Job.Sync, database.Connection, null))
        {
            environment[key] = value;
        }

        var process = Process.Start(CliProcess.StartInfo(["run", "--role", "sync"], environment))!;
        var lines = new StringBuilder();
        process.OutputDataReceived += (_, e) => Keep(lines, e.Data);
        process.ErrorDataReceived += (_, e) => Keep(lines, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return (process, lines);
    }

    /// <summary>The process's output, bounded: a warning per refused message would otherwise grow the test's memory.</summary>
    static void Keep(StringBuilder log, string? line)
    {
        lock (log)
        {
            if (log.Length > 200_000)
            {
                log.Remove(0, 100_000);
            }

            log.AppendLine(line);
        }
    }

    static string Tail(StringBuilder log)
    {
        lock (log)
        {
            var text = log.ToString();
            return text.Length > 8000 ? $"{text[..3000]}\n...\n{text[^5000..]}" : text;
        }
    }

    /// <summary>The peak resident set of the process (kB), as the kernel recorded it.</summary>
    static long PeakRssKb(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line["VmHWM:".Length..].Replace("kB", "", StringComparison.Ordinal).Trim(), CultureInfo.InvariantCulture);
    }

    /// <summary>Publishes as fast as the broker confirms: a window of 500 unconfirmed messages, each with its own content type.</summary>
    static async Task Publish(IConnection connection, IEnumerable<Outgoing> messages)
    {
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        var pending = new List<Task>();
        foreach (var message in messages)
        {
            var properties = new BasicProperties { ContentType = message.ContentType, DeliveryMode = DeliveryModes.Persistent };
            pending.Add(channel.BasicPublishAsync(message.Exchange, "", mandatory: true, properties, message.Body).AsTask());
            if (pending.Count >= 500)
            {
                await Task.WhenAll(pending);
                pending.Clear();
            }
        }

        await Task.WhenAll(pending);
    }

    /// <summary>Messages ready in a queue, exact and at once (the management API's figures lag by seconds).</summary>
    static async Task<uint> Ready(IConnection connection, string queue)
    {
        await using var channel = await connection.CreateChannelAsync();
        return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
    }

    /// <summary>Reads every message of a queue with basic.get, unacknowledged: they go back to the queue when the channel closes.</summary>
    static async Task<List<(string Queue, byte[] Body, string Reason)>> ReadAll(IConnection connection, string queue)
    {
        var all = new List<(string, byte[], string)>();
        await using var channel = await connection.CreateChannelAsync();
        while (await channel.BasicGetAsync(queue, autoAck: false) is { } got)
        {
            var reason = got.BasicProperties.Headers?.TryGetValue("MT-Fault-Message", out var value) == true
                ? value is byte[] bytes ? Encoding.UTF8.GetString(bytes) : Convert.ToString(value, CultureInfo.InvariantCulture) ?? ""
                : "(no MT-Fault-Message)";
            all.Add((queue, got.Body.ToArray(), reason));
        }

        return all;
    }

    static async Task<long> Consumers(IsolatedVhost vhost, string queue)
    {
        var response = await vhost.Management.GetAsync($"api/queues/{Uri.EscapeDataString(vhost.Name)}/{queue}");
        if (!response.IsSuccessStatusCode)
        {
            return 0;
        }

        var json = await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<System.Text.Json.JsonElement>(response.Content);
        return json.TryGetProperty("consumers", out var consumers) ? consumers.GetInt64() : 0;
    }

    /// <summary>Every queue of the vhost with its messages, for a failure's message.</summary>
    static async Task<string> Queues(IsolatedVhost vhost)
    {
        var json = await System.Net.Http.Json.HttpClientJsonExtensions.GetFromJsonAsync<System.Text.Json.JsonElement>(vhost.Management, $"api/queues/{Uri.EscapeDataString(vhost.Name)}");
        return string.Join("\n", json.EnumerateArray().Select(q => $"{q.GetProperty("name").GetString()}: {(q.TryGetProperty("messages", out var m) ? m.ToString() : "?")} messages"));
    }

    static string Show(byte[] body) => Cut(Encoding.UTF8.GetString(body));

    static string Cut(string text) => text.Length > 300 ? text[..300] + "..." : text;

    static Regex Pattern(string pattern) => new(pattern, RegexOptions.CultureInvariant);
}

/// <summary>One message to publish; <see cref="Label"/> is the reason it must be refused with, null for a valid one.</summary>
public sealed record Outgoing(string Exchange, byte[] Body, string? ContentType, string? Label, string Queue);

/// <summary>
/// The messages of the suite and what must come of them: <see cref="History"/> holds every valid
/// contact event (the oracle's input), each invalid message carries the label of its reason.
/// Metadata is a function of (key, version), so two changes of one key at one version are the
/// same change and the oracle does not depend on the order of arrival.
/// </summary>
public sealed class BadInputPlan
{
    const string Json = "application/json";
    static readonly string ContactErrors = Topology.ErrorQueue(Topology.ContactChangesQueue);
    static readonly string CampaignErrors = Topology.ErrorQueue(Topology.CampaignChangesQueue);

    readonly Random random;
    readonly Guid[] known = [.. Enumerable.Range(0, 3).Select(_ => Guid.NewGuid())];
    readonly Guid[] never = [.. Enumerable.Range(0, 4).Select(_ => Guid.NewGuid())];
    int nextInvalidPhone;
    int nextBatchPhone;

    public List<Outgoing> KnownCampaigns { get; } = [];

    public List<Outgoing> LateCampaigns { get; } = [];

    public Guid[] LateCampaignIds { get; } = [.. Enumerable.Range(0, 2).Select(_ => Guid.NewGuid())];

    public List<Outgoing> Flood { get; } = [];

    public List<ContactChange> History { get; } = [];

    /// <summary>The name and version each campaign must end with.</summary>
    public Dictionary<Guid, (string Name, long Version)> CampaignNames { get; } = [];

    public BadInputPlan(Random random)
    {
        this.random = random;
        foreach (var id in known)
        {
            KnownCampaigns.Add(Valid(Topology.CampaignChangedExchange, Campaign(id, "v1", 1)));
            CampaignNames[id] = ("v1", 1);
        }

        foreach (var id in LateCampaignIds)
        {
            LateCampaigns.Add(Valid(Topology.CampaignChangedExchange, Campaign(id, "late", 1)));
            CampaignNames[id] = ("late", 1);
        }

        AddInvalid();
        AddValidSpecialCases();

        // the rest: valid changes and deletes of the known campaigns, single and in batches, many per key
        for (var b = 0; b < 100; b++)
        {
            var items = Enumerable.Range(0, 20).Select(_ => ValidEvent(known[random.Next(known.Length)])).ToList();
            Flood.Add(Valid(Topology.ContactChangeBatchExchange, Batch(items.Where(i => !i.Change.IsDelete).Select(i => i.Json), items.Where(i => i.Change.IsDelete).Select(i => i.Json))));
            History.AddRange(items.Select(i => i.Change));
        }

        while (Flood.Count < 10_000 - KnownCampaigns.Count - LateCampaigns.Count)
        {
            var (change, json) = ValidEvent(known[random.Next(known.Length)]);
            Flood.Add(Valid(change.IsDelete ? Topology.ContactDeletedExchange : Topology.ContactChangedExchange, json));
            History.Add(change);
        }

        // full speed, the valid among the invalid
        var shuffled = Flood.OrderBy(_ => random.Next()).ToList();
        Flood.Clear();
        Flood.AddRange(shuffled);
    }

    void AddInvalid()
    {
        var campaign = known[0];

        // malformed JSON, an empty body, not an object
        string[] malformed = ["{\"eventId\":", "{'eventId':'x'}", "{eventId: 1}", "not json at all", "{\"a\":1} trailing", "{\"a\":[1,2}"];
        for (var i = 0; i < 150; i++)
        {
            var text = i % malformed.Length == 0 ? Changed(campaign, InvalidPhone(), 1)[..^(1 + (i % 40))] : malformed[i % malformed.Length] + $" {i}";
            Invalid(Topology.ContactChangedExchange, text, "not JSON");
        }

        for (var i = 0; i < 50; i++)
        {
            Invalid(i % 2 == 0 ? Topology.ContactChangedExchange : Topology.ContactDeletedExchange, [], "empty body", Json);
        }

        string[] notObjects = ["[]", "\"text\"", "42", "null", "true"];
        for (var i = 0; i < 50; i++)
        {
            Invalid(Topology.ContactChangedExchange, i % 2 == 0 ? $"[{i}]" : notObjects[i % notObjects.Length], "not a JSON object");
        }

        // missing and wrong-typed fields
        string[] fields = ["eventId", "campaignId", "phoneNumber", "version", "occurredAt", "metadata"];
        for (var i = 0; i < 240; i++)
        {
            var node = JsonNode.Parse(Changed(campaign, InvalidPhone(), 1))!.AsObject();
            node.Remove(fields[i % fields.Length]);
            Invalid(Topology.ContactChangedExchange, node.ToJsonString(), "missing field");
        }

        (string Field, JsonNode Value)[] wrong =
        [
            ("eventId", "not-a-uuid"), ("campaignId", 42), ("phoneNumber", 12015550123), ("version", "5"),
            ("version", 1.5), ("version", "1e3"), ("occurredAt", "yesterday"), ("occurredAt", 1700000000), ("campaignId", new JsonArray()),
        ];
        for (var i = 0; i < 225; i++)
        {
            var node = JsonNode.Parse(Changed(campaign, InvalidPhone(), 1))!.AsObject();
            var (field, value) = wrong[i % wrong.Length];
            node[field] = value.DeepClone();
            Invalid(Topology.ContactChangedExchange, node.ToJsonString(), "wrong-typed field");
        }

        // invalid phones
        string[] phones = ["12015550123", "+1 201 555 0123", "+999", "+1abc5550123", "", "+120155501234567890", "+0000000000", "0044 20 7946 0958"];
        for (var i = 0; i < 200; i++)
        {
            var json = i % 3 == 0 ? Deleted(campaign, phones[i % phones.Length], 1) : Changed(campaign, phones[i % phones.Length], 1);
            Invalid(i % 3 == 0 ? Topology.ContactDeletedExchange : Topology.ContactChangedExchange, json, "invalid phone");
        }

        // metadata: an array, oversized, nested too deep, lone surrogates, bytes that are not UTF-8
        for (var i = 0; i < 100; i++)
        {
            Invalid(Topology.ContactChangedExchange, Changed(campaign, InvalidPhone(), 1, i % 2 == 0 ? "[1,2,3]" : "\"a string\""), "metadata not an object");
        }

        for (var i = 0; i < 20; i++)
        {
            Invalid(Topology.ContactChangedExchange, Changed(campaign, InvalidPhone(), 1, $$"""{"blob":"{{new string('x', 70_000 + i)}}"}"""), "metadata oversized");
        }

        for (var i = 0; i < 50; i++)
        {
            var depth = 70 + (i * 20);
            Invalid(Topology.ContactChangedExchange, Changed(campaign, InvalidPhone(), 1, Nested(depth)), "nested too deep");
        }

        string[] surrogates = [@"{""name"":""a\ud800b""}", @"{""name"":""\udc00""}", @"{""name"":""x\ud83d""}", @"{""k\udfff"":1}"];
        for (var i = 0; i < 100; i++)
        {
            Invalid(Topology.ContactChangedExchange, Changed(campaign, InvalidPhone(), 1, surrogates[i % surrogates.Length]), "lone surrogate");
        }

        byte[][] notUtf8 = [[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xe9]];
        for (var i = 0; i < 100; i++)
        {
            var text = Changed(campaign, InvalidPhone(), 1, """{"name":"Zo@"}""");
            var at = text.IndexOf('@', StringComparison.Ordinal);
            byte[] body = [.. Encoding.UTF8.GetBytes(text[..at]), .. notUtf8[i % notUtf8.Length], .. Encoding.UTF8.GetBytes(text[(at + 1)..])];
            Invalid(Topology.ContactChangedExchange, body, "not valid UTF-8", Json);
        }

        // negative versions; a delete that carries metadata
        for (var i = 0; i < 100; i++)
        {
            var phone = InvalidPhone();
            Invalid(i % 2 == 0 ? Topology.ContactChangedExchange : Topology.ContactDeletedExchange,
                i % 2 == 0 ? Changed(campaign, phone, -1 - i) : Deleted(campaign, phone, -1 - i), "negative version");
        }

        for (var i = 0; i < 30; i++)
        {
            Invalid(Topology.ContactDeletedExchange, Changed(campaign, InvalidPhone(), 1), "delete carrying metadata");
        }

        // a batch with one bad item: refused whole, so none of its good items may appear
        string[] badItems =
        [
            Changed(campaign, "+1 201 555 0000", 1), Changed(campaign, InvalidPhone(), -5), Changed(campaign, InvalidPhone(), 1, "[]"),
            """{"eventId":"x"}""", Changed(campaign, InvalidPhone(), 1, @"{""a"":""\ud800""}"),
        ];
        for (var i = 0; i < 60; i++)
        {
            var good = Enumerable.Range(0, 19).Select(_ => Changed(known[random.Next(known.Length)], BatchPhone(), 1 + random.Next(100))).ToList();
            good.Insert(i % 20, badItems[i % badItems.Length]);
            Invalid(Topology.ContactChangeBatchExchange, Batch(good, []), "batch with one bad item");
        }

        // campaigns that never come: given up on after the wait steps
        for (var i = 0; i < 200; i++)
        {
            Invalid(i % 4 == 0 ? Topology.ContactDeletedExchange : Topology.ContactChangedExchange,
                i % 4 == 0 ? Deleted(never[i % never.Length], InvalidPhone(), 1) : Changed(never[i % never.Length], InvalidPhone(), 1), "unknown campaign");
        }

        for (var i = 0; i < 10; i++)
        {
            Invalid(Topology.ContactChangeBatchExchange, Batch(Enumerable.Range(0, 10).Select(_ => Changed(never[i % never.Length], BatchPhone(), 1)), []), "unknown campaign");
        }

        // bad campaign events
        for (var i = 0; i < 20; i++)
        {
            var id = Guid.NewGuid();
            Invalid(Topology.CampaignChangedExchange, Campaign(id, "x", 1)[..^(2 + i)], "campaign: not JSON", queue: CampaignErrors);
            Invalid(Topology.CampaignChangedExchange, Without(Campaign(Guid.NewGuid(), "x", 1), i % 2 == 0 ? "name" : "id"), "campaign: missing field", queue: CampaignErrors);
            Invalid(Topology.CampaignChangedExchange, Campaign(Guid.NewGuid(), "x", -1 - i), "campaign: negative version", queue: CampaignErrors);
            Invalid(Topology.CampaignChangedExchange, Campaign(Guid.NewGuid(), "x", 1).Replace("\"config\":{}", "\"config\":[1]", StringComparison.Ordinal), "campaign: config not an object", queue: CampaignErrors);
            Invalid(Topology.CampaignChangedExchange, Campaign(Guid.NewGuid(), "x", 1).Replace("\"version\":1", "\"version\":\"one\"", StringComparison.Ordinal), "campaign: wrong-typed field", queue: CampaignErrors);
        }
    }

    void AddValidSpecialCases()
    {
        var campaign = known[1];

        // campaigns that arrive late: their contacts first (this flood), the campaign once they wait
        foreach (var late in LateCampaignIds)
        {
            for (var i = 0; i < 150; i++)
            {
                var (change, json) = ValidEvent(late);
                Flood.Add(Valid(change.IsDelete ? Topology.ContactDeletedExchange : Topology.ContactChangedExchange, json));
                History.Add(change);
            }

            var items = Enumerable.Range(0, 10).Select(_ => ValidEvent(late)).ToList();
            Flood.Add(Valid(Topology.ContactChangeBatchExchange, Batch(items.Where(i => !i.Change.IsDelete).Select(i => i.Json), items.Where(i => i.Change.IsDelete).Select(i => i.Json))));
            History.AddRange(items.Select(i => i.Change));
        }

        // duplicate event ids, different content: eventId is not a dedup key, versions decide
        for (var i = 0; i < 100; i++)
        {
            var eventId = Guid.NewGuid();
            var phone = KeyPhone();
            var low = (long)random.Next(1, 1000);
            var high = low + 1 + random.Next(1000);
            var first = ContactChange.Upsert(campaign, phone, low, Metadata(campaign, phone, low));
            var second = i % 2 == 0
                ? ContactChange.Upsert(campaign, phone, high, Metadata(campaign, phone, high))
                : ContactChange.Delete(campaign, phone, low); // a change and a delete at one version: the delete wins
            foreach (var change in new[] { first, second })
            {
                var json = change.IsDelete ? Deleted(campaign, phone, change.Version, eventId) : Changed(campaign, phone, change.Version, change.Metadata!, eventId);
                Flood.Add(Valid(change.IsDelete ? Topology.ContactDeletedExchange : Topology.ContactChangedExchange, json));
                History.Add(change);
            }
        }

        // replays of old versions: stale, ignored, not errors (the newer is published too; order is the shuffle's)
        for (var i = 0; i < 100; i++)
        {
            var phone = KeyPhone();
            var newer = (long)random.Next(500, 1000);
            foreach (var version in new[] { newer, newer - 1 - random.Next(400), newer - 1 - random.Next(400) })
            {
                var change = ContactChange.Upsert(campaign, phone, version, Metadata(campaign, phone, version));
                Flood.Add(Valid(Topology.ContactChangedExchange, Changed(campaign, phone, version, change.Metadata!)));
                History.Add(change);
            }
        }

        // valid metadata that looks odd: nested within the limit, escaped surrogate pairs, text with \\u0000
        for (var i = 0; i < 30; i++)
        {
            var phone = KeyPhone();
            var metadata = (i % 3) switch
            {
                0 => Nested(30 + i),
                1 => """{"emoji":"\ud83d\ude00","name":"Zoë","ja":"日本"}""",
                _ => """{"path":"C:\\u0000\\ud800"}""",
            };
            // above every random version: no other change of the key ties with it
            var version = (long)(200_000 + i);
            Flood.Add(Valid(Topology.ContactChangedExchange, Changed(campaign, phone, version, metadata)));
            History.Add(ContactChange.Upsert(campaign, phone, version, metadata));
        }

        // valid JSON under any content type: the body is read as the contract's JSON whatever the
        // header says (docs/adr/0002), so a publisher's default of text/plain loses nothing
        string?[] contentTypes = ["application/json; charset=utf-8", null, "text/plain", "application/xml", "application/octet-stream", "application/vnd.masstransit+json"];
        for (var i = 0; i < 120; i++)
        {
            var (change, json) = ValidEvent(known[2]);
            Flood.Add(new Outgoing(change.IsDelete ? Topology.ContactDeletedExchange : Topology.ContactChangedExchange, Encoding.UTF8.GetBytes(json),
                contentTypes[i % contentTypes.Length], null, ""));
            History.Add(change);
        }

        // campaign updates and their stale replays: the highest version's name stays
        foreach (var id in known)
        {
            foreach (var version in new long[] { 3, 2, 5, 4, 1 })
            {
                Flood.Add(Valid(Topology.CampaignChangedExchange, Campaign(id, $"v{version}", version)) with { ContentType = version == 5 ? "text/plain" : Json });
            }

            CampaignNames[id] = ("v5", 5);
        }
    }

    /// <summary>A valid change (80 %) or delete of a key from a small pool, so that keys see many versions.</summary>
    (ContactChange Change, string Json) ValidEvent(Guid campaign)
    {
        var phone = KeyPhone();
        var version = (long)random.Next(0, 100_000);
        if (random.Next(5) == 0)
        {
            return (ContactChange.Delete(campaign, phone, version), Deleted(campaign, phone, version));
        }

        var metadata = Metadata(campaign, phone, version);
        return (ContactChange.Upsert(campaign, phone, version, metadata), Changed(campaign, phone, version, metadata));
    }

    string KeyPhone() => $"+1201555{random.Next(0, 1500):0000}";

    /// <summary>Phones of invalid messages: a row with one of these is an invalid message applied.</summary>
    string InvalidPhone() => $"+1201556{nextInvalidPhone++ % 10_000:0000}";

    /// <summary>Phones of the good items of refused batches: they must not be applied either.</summary>
    string BatchPhone() => $"+1201557{nextBatchPhone++ % 10_000:0000}";

    static string Metadata(Guid campaign, string phone, long version) =>
        $$"""{"name":"contact {{phone}}","version":{{version}},"campaign":"{{campaign}}","tags":["a","b"]}""";

    static string Nested(int depth) => string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth);

    static string Changed(Guid campaign, string phone, long version, string metadata = """{"name":"x"}""", Guid? eventId = null) =>
        $$"""{"eventId":"{{eventId ?? Guid.NewGuid()}}","campaignId":"{{campaign}}","phoneNumber":"{{phone}}","version":{{version}},"occurredAt":"2026-01-01T00:00:00Z","metadata":{{metadata}}}""";

    static string Deleted(Guid campaign, string phone, long version, Guid? eventId = null) =>
        $$"""{"eventId":"{{eventId ?? Guid.NewGuid()}}","campaignId":"{{campaign}}","phoneNumber":"{{phone}}","version":{{version}},"occurredAt":"2026-01-01T00:00:00Z"}""";

    static string Batch(IEnumerable<string> changes, IEnumerable<string> deletes) =>
        $$"""{"batchId":"{{Guid.NewGuid()}}","changes":[{{string.Join(",", changes)}}],"deletes":[{{string.Join(",", deletes)}}]}""";

    static string Campaign(Guid id, string name, long version) =>
        $$"""{"eventId":"{{Guid.NewGuid()}}","id":"{{id}}","name":"{{name}}","type":"voice","status":"active","config":{},"version":{{version}},"occurredAt":"2026-01-01T00:00:00Z"}""";

    static string Without(string json, string field)
    {
        var node = JsonNode.Parse(json)!.AsObject();
        node.Remove(field);
        return node.ToJsonString();
    }

    static Outgoing Valid(string exchange, string json)
    {
        return new Outgoing(exchange, Encoding.UTF8.GetBytes(json), Json, null, "");
    }

    void Invalid(string exchange, string json, string label, string? queue = null) =>
        Invalid(exchange, Encoding.UTF8.GetBytes(json), label, Json, queue);

    void Invalid(string exchange, byte[] body, string label, string? contentType, string? queue = null) =>
        Flood.Add(new Outgoing(exchange, body, contentType, label, queue ?? ContactErrors));

    /// <summary>Every phone the plan calls valid is valid, or the oracle would be wrong, not the consumer.</summary>
    public static void CheckPhones(BadInputPlan plan) =>
        Assert.All(plan.History, c => Assert.True(PhoneNormalizer.IsE164(c.PhoneNumber, out var reason), reason));
}
