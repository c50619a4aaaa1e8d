using System.CommandLine;
using System.Net.Http.Json;
using System.Text.Json;
using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.Source.Configuration;
using CampaignEvents.Source.SlotHealth;
using CampaignEvents.Sync.Configuration;
using Dapper;
using Microsoft.Extensions.Configuration;
using Npgsql;
using Spectre.Console;

namespace CampaignEvents.Cli.Commands.Status;

/// <summary>
/// One look at the whole pipeline: per campaign what the local database holds, the source's
/// replication slot and its lag, the queues operators watch, the last reconciliation.
/// </summary>
static class StatusCommand
{
    static readonly string[] Queues =
    [
        Topology.ContactChangesQueue, Topology.ErrorQueue(Topology.ContactChangesQueue),
        Topology.CampaignChangesQueue, Topology.ErrorQueue(Topology.CampaignChangesQueue),
        Topology.ReconciliationQueue, Topology.ErrorQueue(Topology.ReconciliationQueue),
    ];

    const string CampaignsSql = """
        SELECT c.id AS id, c.name AS name,
               coalesce(k.rows, 0) AS localrows,
               coalesce(t.tombstones, 0) AS tombstones,
               k.last_version AS lastversion, k.last_applied_at AS lastappliedat,
               r.outcome AS lastreconciliation, r.finished_at AS lastreconciledat
        FROM campaigns c
        LEFT JOIN LATERAL (
            SELECT count(*) AS rows, max(version) AS last_version, max(applied_at) AS last_applied_at
            FROM contacts WHERE campaign_id = c.id) k ON true
        LEFT JOIN LATERAL (
            SELECT count(*) AS tombstones FROM contact_tombstones WHERE campaign_id = c.id) t ON true
        LEFT JOIN LATERAL (
            SELECT outcome, finished_at FROM reconciliation_runs
            WHERE campaign_id = c.id ORDER BY started_at DESC LIMIT 1) r ON true
        ORDER BY c.name, c.id
        """;

    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print the status as JSON for machines." };
        var command = new Command("status", "Show, per campaign, the local rows, the last applied version and time and the last reconciliation; the source's replication slot and its lag; the depth, consumers, leader and replicas of the queues and which broker node each process is connected to (from the RabbitMQ management API). Exit code 1 when a part does not answer.") { json };
        command.SetAction((parse, cancel) => Failures.Guard(async () =>
        {
            var report = await Collect(Settings.Load(), cancel);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(report, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
            }
            else
            {
                Print(report, CommandOutput.Standard());
            }

            return report.Reachable ? 0 : 1;
        }));
        return command;
    }

    public static async Task<StatusReport> Collect(IConfiguration configuration, CancellationToken cancel)
    {
        var local = DatabaseSettings.Require(configuration, DatabaseSettings.Contacts);
        var rabbit = configuration.GetSection(RabbitMqOptions.Section).Get<RabbitMqOptions>() ?? new RabbitMqOptions();
        var source = configuration.GetSection(SourceOptions.Section).Get<SourceOptions>() ?? new SourceOptions();
        var sync = configuration.GetSection(SyncOptions.Section).Get<SyncOptions>() ?? new SyncOptions();

        IReadOnlyList<CampaignStatus> campaigns = [];
        string? localError = null;
        try
        {
            await using var connection = new NpgsqlConnection(local.ConnectionString);
            await connection.OpenAsync(cancel);
            campaigns = [.. await connection.QueryAsync<CampaignStatus>(new CommandDefinition(CampaignsSql, cancellationToken: cancel))];
        }
        catch (NpgsqlException e)
        {
            localError = Failures.Database(DatabaseSettings.Contacts, local, e).Message;
        }

        SlotStatus? slot = null;
        string? sourceError = null;
        try
        {
            var target = DatabaseSettings.Require(configuration, DatabaseSettings.Source);
            try
            {
                await using var connection = new NpgsqlConnection(target.ConnectionString);
                await connection.OpenAsync(cancel);
                var s = await SlotObservation.Read(connection, source.SlotName, cancel);
                slot = new SlotStatus(s.Name, s.Exists, s.Active, s.LagBytes, s.ConfirmedFlushLsn, s.WalStatus, s.FlushLagSeconds, s.SafeWalSizeBytes);
            }
            catch (NpgsqlException e)
            {
                sourceError = Failures.Database(DatabaseSettings.Source, target, e).Message;
            }
        }
        catch (SettingsException e)
        {
            sourceError = e.Message;
        }

        // the wait queues of contacts whose campaign is not there yet, one per back-off step (Sync:CampaignWaitIntervals)
        var (queues, brokerError) = await QueueDepths(rabbit, WatchedQueues(sync), cancel);
        var (connections, nodes) = brokerError is null ? await ConnectionsAndNodes(rabbit, cancel) : ([], []);
        return new StatusReport
        {
            LocalDatabase = DatabaseSettings.Describe(local),
            LocalError = localError,
            Campaigns = campaigns,
            Slot = slot,
            SourceError = sourceError,
            Broker = rabbit.Describe(),
            BrokerError = brokerError,
            Queues = queues,
            Connections = connections,
            Nodes = nodes,
        };
    }

    /// <summary>The queues operators watch, with the wait queues of the configured back-off steps.</summary>
    public static IEnumerable<string> WatchedQueues(SyncOptions sync) => Queues.Concat(sync.CampaignWaits.Distinct().Order().Select(Topology.WaitQueue));

    public static async Task<(IReadOnlyList<QueueStatus> Queues, string? Error)> QueueDepths(RabbitMqOptions rabbit, IEnumerable<string> queues, CancellationToken cancel)
    {
        using var http = ManagementClient(rabbit);
        var result = new List<QueueStatus>();
        try
        {
            foreach (var name in queues)
            {
                using var response = await http.GetAsync($"api/queues/{Uri.EscapeDataString(rabbit.VirtualHost)}/{name}", cancel);
                if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
                {
                    result.Add(new QueueStatus(name, false, 0, 0, 0));
                    continue;
                }

                if (response.StatusCode == System.Net.HttpStatusCode.Unauthorized)
                {
                    return (result, $"the management API at {http.BaseAddress} refused the user name or password (RabbitMq:Username, RabbitMq:Password)");
                }

                response.EnsureSuccessStatusCode();
                var queue = await response.Content.ReadFromJsonAsync<JsonElement>(cancel);
                result.Add(new QueueStatus(
                    name, true, Number(queue, "messages_ready"), Number(queue, "messages_unacknowledged"), (int)Number(queue, "consumers"),
                    Text(queue, "leader"), Names(queue, "members"), Names(queue, "online")));
            }

            return (result, null);
        }
        catch (HttpRequestException e)
        {
            return (result, $"the management API at {http.BaseAddress} does not answer ({e.Message}); RabbitMq:ManagementPort");
        }
        catch (TaskCanceledException) when (!cancel.IsCancellationRequested)
        {
            return (result, $"the management API at {http.BaseAddress} did not answer within 10 s");
        }
    }

    /// <summary>
    /// Which node each process of the vhost is connected to, and the cluster's nodes. Best effort:
    /// the queues already told whether the management API answers, so a failure here leaves these empty.
    /// </summary>
    static async Task<(IReadOnlyList<ConnectionStatus>, IReadOnlyList<NodeStatus>)> ConnectionsAndNodes(RabbitMqOptions rabbit, CancellationToken cancel)
    {
        using var http = ManagementClient(rabbit);
        var connections = new List<ConnectionStatus>();
        var nodes = new List<NodeStatus>();
        try
        {
            var listed = await http.GetFromJsonAsync<JsonElement>($"api/vhosts/{Uri.EscapeDataString(rabbit.VirtualHost)}/connections", cancel);
            foreach (var c in listed.EnumerateArray())
            {
                var name = c.TryGetProperty("client_properties", out var client) ? Text(client, "connection_name") : null;
                var peer = Text(c, "peer_host") is { } host ? $"{host}:{Number(c, "peer_port")}" : null;
                connections.Add(new ConnectionStatus(name ?? Text(c, "name") ?? "?", Text(c, "node") ?? "?", peer));
            }

            foreach (var n in (await http.GetFromJsonAsync<JsonElement>("api/nodes?columns=name,running", cancel)).EnumerateArray())
            {
                nodes.Add(new NodeStatus(Text(n, "name") ?? "?", n.TryGetProperty("running", out var running) && running.ValueKind == JsonValueKind.True));
            }
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or TaskCanceledException && !cancel.IsCancellationRequested)
        {
        }

        return ([.. connections.OrderBy(c => c.Name, StringComparer.Ordinal)], [.. nodes.OrderBy(n => n.Name, StringComparer.Ordinal)]);
    }

    /// <summary>"3 of 3 online", naming the members that are not (the full lists are in --json).</summary>
    static string Replicas(QueueStatus q)
    {
        if (q.Members is null)
        {
            return "-";
        }

        var offline = q.Members.Except(q.Online ?? []).ToList();
        return $"{q.Members.Count - offline.Count} of {q.Members.Count} online" + (offline.Count > 0 ? $" ({string.Join(", ", offline)} down)" : "");
    }

    static string? Text(JsonElement json, string name) =>
        json.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    static IReadOnlyList<string>? Names(JsonElement json, string name) =>
        json.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array
            ? [.. value.EnumerateArray().Select(v => v.GetString() ?? "?")]
            : null;

    /// <summary>The RabbitMQ management API (dashboard port), authenticated as the configured user.</summary>
    public static HttpClient ManagementClient(RabbitMqOptions rabbit)
    {
        var http = ManagementApi.Client(rabbit);
        http.Timeout = TimeSpan.FromSeconds(10);
        return http;
    }

    static long Number(JsonElement json, string name) =>
        json.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt64() : 0;

    /// <summary>For people: tables on a terminal, one line per row when piped (<see cref="CommandOutput"/>).</summary>
    static void Print(StatusReport report, CommandOutput output)
    {
        var culture = System.Globalization.CultureInfo.InvariantCulture;
        output.Line($"[bold]Local database[/] {Markup.Escape(report.LocalDatabase)}");
        if (report.LocalError is not null)
        {
            output.Line($"  [red]unreachable:[/] {Markup.Escape(report.LocalError)}");
        }
        else if (report.Campaigns.Count == 0)
        {
            output.Line("  no campaigns yet");
        }
        else
        {
            output.Table(
                ["campaign", "name", "local rows", "tombstones", "last version", "last applied", "last reconciliation"],
                report.Campaigns.Select(c => (IReadOnlyList<string>)
                [
                    c.Id.ToString(),
                    c.Name,
                    c.LocalRows.ToString("N0", culture),
                    c.Tombstones.ToString("N0", culture),
                    c.LastVersion?.ToString(culture) ?? "-",
                    c.LastAppliedAt?.ToString("u", culture) ?? "-",
                    c.LastReconciliation is null ? "never" : string.Create(culture, $"{c.LastReconciliation} at {c.LastReconciledAt:u}"),
                ]));
        }

        output.Line("[bold]Source replication slot[/]");
        if (report.SourceError is not null)
        {
            output.Line($"  [red]unreachable:[/] {Markup.Escape(report.SourceError)}");
        }
        else if (report.Slot is { Exists: false } missing)
        {
            output.Line($"  {Markup.Escape(missing.Name)}: not created yet (the source adapter creates it on first start)");
        }
        else if (report.Slot is { } slot)
        {
            var walStatus = slot.WalStatus switch
            {
                "lost" => "[red]lost[/]",
                "unreserved" => "[yellow]unreserved[/]",
                var w => Markup.Escape(w ?? "?"),
            };
            var time = slot.FlushLagSeconds is { } seconds ? string.Create(culture, $", flush lag {seconds:0.0} s") : "";
            var safe = slot.SafeWalSizeBytes is { } bytes ? string.Create(culture, $", {bytes:N0} bytes of WAL before max_slot_wal_keep_size") : "";
            output.Line(string.Create(culture, $"  {Markup.Escape(slot.Name)}: {(slot.Active ? "streaming" : "[yellow]no adapter connected[/]")}, wal_status {walStatus}, lag {slot.LagBytes:N0} bytes of WAL{time}{safe}, confirmed up to {slot.ConfirmedFlushLsn}"));
            if (slot.WalStatus == "lost")
            {
                output.Line($"  [red]{Markup.Escape(SlotContinuity.Refusal(new SlotObservation(slot.Name, true, false, "lost", null, null, null, null, null, null)))}[/]");
            }
        }

        output.Line($"[bold]Queues[/] {Markup.Escape(report.Broker)}");
        if (report.BrokerError is not null)
        {
            output.Line($"  [red]unreachable:[/] {Markup.Escape(report.BrokerError)}");
            return;
        }

        output.Table(
            ["queue", "ready", "unacked", "consumers", "leader", "replicas"],
            report.Queues.Select(q => (IReadOnlyList<string>)
            [
                q.Name,
                q.Exists ? q.Ready.ToString("N0", culture) : "(not declared yet)",
                q.Unacknowledged.ToString("N0", culture),
                q.Consumers.ToString(culture),
                q.Leader ?? "-",
                Replicas(q),
            ]));
        if (report.Nodes.Count > 1)
        {
            output.Line($"[bold]Cluster nodes[/] {Markup.Escape(string.Join(", ", report.Nodes.Select(n => n.Running ? n.Name : $"{n.Name} (down)")))}");
        }

        output.Line("[bold]Connections[/] (process → broker node)");
        if (report.Connections.Count == 0)
        {
            output.Line("  none");
        }

        foreach (var c in report.Connections)
        {
            output.Line($"  {Markup.Escape(c.Name)} → {Markup.Escape(c.Node)}");
        }
    }
}
