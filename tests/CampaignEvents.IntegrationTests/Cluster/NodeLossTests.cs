using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.IntegrationTests.Pipeline;
using CampaignEvents.TestSupport;
using CampaignEvents.TestSupport.Stack;
using Dapper;
using Npgsql;
using Xunit;

namespace CampaignEvents.IntegrationTests.Cluster;

/// <summary>
/// The roles as separate processes on a 3-node RabbitMQ cluster (issue 14, part 3): the source
/// adapter and two sync consumers, each consumer on a different node, sync 100,000 contacts
/// while a node goes away and comes back. Nothing is lost, nothing reaches an error queue, and
/// the node rejoins. Quorum queues keep the messages on the other two nodes; every process
/// whose node went away reconnects to the next node of its RabbitMq:Hosts (docs/adr/0012).
/// </summary>
[Collection(RabbitClusterCollection.Name)]
public sealed class NodeLossTests(RabbitClusterFixture fixture, IsolatedVhost vhost, ITestOutputHelper log) : IClassFixture<IsolatedVhost>
{
    const int Contacts = 100_000;
    const int Campaigns = 10;
    const int Chunks = 25;
    const int ChunkSize = Contacts / Chunks;
    static readonly TimeSpan Deadline = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task When_the_node_leading_contact_changes_stops_mid_sync_the_sync_finishes_and_local_equals_the_source() =>
        await SyncThroughNodeLoss("leader", async (cluster, clusterVhost) =>
        {
            var queue = await cluster.Queue(clusterVhost, Topology.ContactChangesQueue) ?? throw new InvalidOperationException("contact-changes is not declared");
            return cluster.NodeNumber(queue.GetProperty("leader").GetString()!);
        });

    [Fact]
    public async Task When_the_node_of_the_adapters_connection_stops_mid_sync_the_sync_finishes_and_local_equals_the_source() =>
        await SyncThroughNodeLoss("adapter", async (cluster, clusterVhost) =>
        {
            var adapter = (await cluster.Connections(clusterVhost)).Single(c => c.Name.StartsWith("campaign-events source", StringComparison.Ordinal));
            return cluster.NodeNumber(adapter.Node);
        });

    async Task SyncThroughNodeLoss(string purpose, Func<ThrowawayRabbitCluster, string, Task<int>> nodeToStop)
    {
        var cluster = await fixture.Cluster();
        var clusterVhost = await cluster.CreateVhost();
        await using var roles = await SeparateRoles.Create(vhost, $"cl{purpose}");
        try
        {
            var clock = Stopwatch.StartNew();
            var rabbit = cluster.Rabbit(clusterVhost, 1, 2, 3);
            roles.World.Settings["RabbitMq:VirtualHost"] = clusterVhost;
            // the administrator for migrate --topology; each role process and command runs as its job
            roles.World.Settings["RabbitMq:Username"] = rabbit.Username;
            roles.World.Settings["RabbitMq:Password"] = rabbit.Password;
            var campaigns = await roles.World.CreateCampaigns(Campaigns);

            // The topology first, so the leader of contact-changes is known before the roles start:
            // each process tries the nodes in its own order, so the first consumer lands on the
            // leader's node, the second on the next node, the adapter on the third.
            var topology = await CliProcess.Run(["migrate", "--topology"], Environment(roles, cluster, 1, 2, 3));
            Assert.True(topology.ExitCode == 0, topology.ToString());
            var leader = cluster.NodeNumber((await cluster.Queue(clusterVhost, Topology.ContactChangesQueue))!.Value.GetProperty("leader").GetString()!);
            int[] Around(int first) => [.. Enumerable.Range(0, 3).Select(i => ((first - 1 + i) % 3) + 1)];
            StartOn(roles, cluster, "sync", Around(leader));
            StartOn(roles, cluster, "sync", Around(leader % 3 + 1));
            StartOn(roles, cluster, "source", Around((leader + 1) % 3 + 1));
            await Eventually.Until(roles.SnapshotCompleted, Deadline, () => $"the adapter's snapshot completed; the roles wrote:\n{roles.Output}");
            var connections = await RoleConnections(cluster, clusterVhost, roles);
            Assert.Equal(3, connections.Select(c => c.Node).Distinct().Count());

            // and every connection the roles opened is their job's user, none the cluster's administrator
            var users = await Identities.RequireJobUsersOnBroker(cluster.Management, clusterVhost, expected: 3);
            Assert.All(users.Where(c => c.Name.StartsWith("campaign-events sync", StringComparison.Ordinal)), c => Assert.Equal(Identities.BrokerUser(Job.Sync), c.User));
            Assert.All(users.Where(c => c.Name.StartsWith("campaign-events source", StringComparison.Ordinal)), c => Assert.Equal(Identities.BrokerUser(Job.Source), c.User));
            log.WriteLine($"{clock.Elapsed:mm\\:ss} contact-changes led by {cluster.NodeName(leader)}; roles connected: {string.Join(", ", connections)}");

            // status shows where each process is connected and each queue's leader and replicas
            var status = await CliProcess.Run(["status", "--json"], Environment(roles, cluster, Job.Status, 1, 2, 3));
            var report = JsonDocument.Parse(status.Output).RootElement;
            Assert.Equal(3, report.GetProperty("connections").EnumerateArray().Count(c => connections.Any(r => r.Name == c.GetProperty("name").GetString() && r.Node == c.GetProperty("node").GetString())));
            var changes = report.GetProperty("queues").EnumerateArray().Single(q => q.GetProperty("name").GetString() == Topology.ContactChangesQueue);
            Assert.Equal(cluster.NodeName(leader), changes.GetProperty("leader").GetString());
            Assert.Equal(3, changes.GetProperty("members").GetArrayLength());

            // The contacts are written at the source in chunks, each once the previous one is local,
            // so the sync is still streaming whenever the node goes: before, while and after it is down.
            var chunk = 0;
            async Task Next()
            {
                await Write(roles, campaigns, chunk);
                chunk++;
                await Eventually.Until(async () => await LocalRows(roles) >= chunk * ChunkSize, Deadline,
                    () => $"chunk {chunk} of {Chunks} local ({chunk * ChunkSize:N0} contacts); the roles wrote:\n{roles.Output}");
            }

            while (chunk < 4)
            {
                await Next();
            }

            var node = await nodeToStop(cluster, clusterVhost);
            log.WriteLine($"{clock.Elapsed:mm\\:ss} stopping {cluster.NodeName(node)} with {await LocalRows(roles):N0} of {Contacts:N0} contacts local");
            var stopping = cluster.StopNode(node);
            while (!stopping.IsCompleted && chunk < Chunks / 2)
            {
                await Next();
            }

            await stopping;
            log.WriteLine($"{clock.Elapsed:mm\\:ss} {cluster.NodeName(node)} stopped with {await LocalRows(roles):N0} contacts local");

            // every role goes on without the node: each is connected again, on another node, and contacts keep arriving
            var moved = await RoleConnections(cluster, clusterVhost, roles, without: cluster.NodeName(node));
            log.WriteLine($"{clock.Elapsed:mm\\:ss} connections without {cluster.NodeName(node)}: {string.Join(", ", moved)}");
            var down = chunk;
            while (chunk < down + 3)
            {
                await Next();
            }

            log.WriteLine($"{clock.Elapsed:mm\\:ss} {await LocalRows(roles):N0} contacts local with the node down; starting it again");
            var starting = cluster.StartNode(node);
            while (chunk < Chunks)
            {
                await Next();
            }

            await starting;
            log.WriteLine($"{clock.Elapsed:mm\\:ss} {cluster.NodeName(node)} started again; all chunks written");

            // the sync finishes and the local contacts equal the source row by row
            await Eventually.Until(async () => await LocalRows(roles) == Contacts, Deadline,
                () => $"all {Contacts:N0} contacts local; the roles wrote:\n{roles.Output}");
            await roles.LocalEqualsSource(Deadline);
            log.WriteLine($"{clock.Elapsed:mm\\:ss} local equals the source");

            var reconcile = await CliProcess.Run(["reconcile", "--all"], Environment(roles, cluster, Job.Reconcile, 2, 3, 1), timeout: TimeSpan.FromMinutes(3));
            Assert.True(reconcile.ExitCode == 0, reconcile.ToString());
            log.WriteLine($"{clock.Elapsed:mm\\:ss} reconcile --all exited 0");

            Assert.Empty(await NonEmptyErrorQueues(cluster, clusterVhost));

            // the node is back in the cluster and holds its replica of contact-changes again
            Assert.Contains(cluster.NodeName(node), await cluster.RunningNodes());
            await Eventually.Until(
                async () => Count(await cluster.Queue(clusterVhost, Topology.ContactChangesQueue), "online") == 3,
                TimeSpan.FromSeconds(60), $"contact-changes has its 3 replicas online again");
            log.WriteLine($"{clock.Elapsed:mm\\:ss} done");
        }
        finally
        {
            await cluster.DeleteVhost(clusterVhost);
        }
    }

    /// <summary>Inserts chunk <paramref name="chunk"/> of the contacts at the source, in one transaction.</summary>
    static async Task Write(SeparateRoles roles, Guid[] campaigns, int chunk)
    {
        await using var connection = await roles.World.Source.OpenConnectionAsync();
        await connection.ExecuteAsync(
            """
            INSERT INTO contacts (campaign_id, phone_number, metadata)
            SELECT (@campaigns)[1 + g % @count], '+1415' || (3000000 + g)::text, jsonb_build_object('n', g)
            FROM generate_series(@from, @to - 1) g
            """,
            new { campaigns, count = campaigns.Length, from = chunk * ChunkSize, to = (chunk + 1) * ChunkSize });
    }

    /// <summary>Starts a role whose RabbitMq:Hosts lists the nodes in the given order (it connects to the first that answers).</summary>
    static void StartOn(SeparateRoles roles, ThrowawayRabbitCluster cluster, string role, params int[] order)
    {
        var rabbit = cluster.Rabbit(order);
        roles.World.Settings["RabbitMq:Hosts"] = rabbit.Hosts;
        roles.World.Settings["RabbitMq:ManagementHosts"] = rabbit.ManagementHosts;
        roles.Start(role);
    }

    /// <summary>The environment of a command on the cluster, as the administrator (migrate --topology).</summary>
    static Dictionary<string, string?> Environment(SeparateRoles roles, ThrowawayRabbitCluster cluster, params int[] order) =>
        Environment(roles.World.Settings, cluster, order);

    /// <summary>The environment of a command on the cluster, as <paramref name="job"/>.</summary>
    static Dictionary<string, string?> Environment(SeparateRoles roles, ThrowawayRabbitCluster cluster, Job job, params int[] order) =>
        Environment(Identities.As(job, roles.World.Settings), cluster, order);

    static Dictionary<string, string?> Environment(IReadOnlyDictionary<string, string?> settings, ThrowawayRabbitCluster cluster, int[] order)
    {
        var rabbit = cluster.Rabbit(order);
        var environment = settings.ToDictionary(s => s.Key.Replace(":", "__", StringComparison.Ordinal), s => s.Value);
        environment["RabbitMq__Hosts"] = rabbit.Hosts;
        environment["RabbitMq__ManagementHosts"] = rabbit.ManagementHosts;
        environment["Logging__LogLevel__Default"] = "Warning";
        environment["Observability__MetricsPort"] = "0";
        environment["Observability__HealthPort"] = "0";
        return environment;
    }

    /// <summary>Waits until the adapter and both consumers are connected (on nodes other than <paramref name="without"/>), and returns where.</summary>
    static async Task<IReadOnlyList<(string Name, string Node)>> RoleConnections(ThrowawayRabbitCluster cluster, string clusterVhost, SeparateRoles roles, string? without = null)
    {
        IReadOnlyList<(string Name, string Node)> found = [];
        await Eventually.Until(async () =>
        {
            found = [.. (await cluster.Connections(clusterVhost))
                .Where(c => c.Name.StartsWith("campaign-events source", StringComparison.Ordinal) || c.Name.StartsWith("campaign-events sync", StringComparison.Ordinal))];
            return found.Count == 3 && found.All(c => c.Node != without);
        }, Deadline, () => $"the adapter and both consumers connected{(without is null ? "" : $" to nodes other than {without}")}: {string.Join(", ", found)}; the roles wrote:\n{roles.Output}");
        return found;
    }

    /// <summary>A number (or an array's length) of a queue as the management API shows it; 0 until its statistics arrived.</summary>
    static long Count(JsonElement? queue, string property) =>
        queue is { } q && q.TryGetProperty(property, out var value)
            ? value.ValueKind switch { JsonValueKind.Number => value.GetInt64(), JsonValueKind.Array => value.GetArrayLength(), _ => 0 }
            : 0;

    static async Task<long> LocalRows(SeparateRoles roles)
    {
        await using var local = new NpgsqlConnection(roles.World.LocalDb.ConnectionString);
        await local.OpenAsync();
        return await local.ExecuteScalarAsync<long>("SELECT count(*) FROM contacts");
    }

    static async Task<IReadOnlyList<string>> NonEmptyErrorQueues(ThrowawayRabbitCluster cluster, string clusterVhost)
    {
        var queues = await cluster.Management.GetFromJsonAsync<JsonElement>($"api/queues/{Uri.EscapeDataString(clusterVhost)}?columns=name,messages");
        return [.. queues.EnumerateArray()
            .Where(q => q.GetProperty("name").GetString()!.EndsWith("_error", StringComparison.Ordinal))
            .Where(q => q.TryGetProperty("messages", out var m) && m.ValueKind == JsonValueKind.Number && m.GetInt64() > 0)
            .Select(q => $"{q.GetProperty("name").GetString()}: {q.GetProperty("messages").GetInt64().ToString(CultureInfo.InvariantCulture)}")];
    }
}
