using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Infrastructure.Messaging;

namespace CampaignEvents.TestSupport.Stack;

/// <summary>
/// A 3-node RabbitMQ cluster of a test's own, started by infra/cluster.sh (the script operators
/// use, so the tests exercise it) on free ports with node names and a state folder of its own,
/// loopback only. A test may stop and start single nodes without touching the shared broker.
/// Needs root (runuser) and the rabbitmq-server package: skipped with the reason otherwise, a
/// failure under CI=true. Starting takes about a minute on 2 cores. With
/// <see cref="ThrowawayCertificates"/> every node also listens for AMQP over TLS
/// (<see cref="TlsPorts"/>, the CA's server certificate for 127.0.0.1/localhost; CE_CLUSTER_TLS_*).
/// </summary>
public sealed class ThrowawayRabbitCluster : IAsyncDisposable
{
    const string User = "campaign-events";
    const string Password = "cluster-test";

    readonly string folder;
    readonly Dictionary<string, string> environment;
    readonly HttpClient management;

    ThrowawayRabbitCluster(string folder, string prefix, int[] amqp, int[] mgmt, int[] dist, int[] prometheus, int[] tls, ThrowawayCertificates? certificates)
    {
        TlsPorts = tls;
        Certificates = certificates;
        this.folder = folder;
        Prefix = prefix;
        AmqpPorts = amqp;
        ManagementPorts = mgmt;
        environment = new Dictionary<string, string>
        {
            ["CE_CLUSTER_STATE"] = folder,
            ["CE_CLUSTER_PREFIX"] = prefix,
            ["CE_CLUSTER_AMQP_PORTS"] = string.Join(' ', amqp),
            ["CE_CLUSTER_MGMT_PORTS"] = string.Join(' ', mgmt),
            ["CE_CLUSTER_DIST_PORTS"] = string.Join(' ', dist),
            ["CE_CLUSTER_PROMETHEUS_PORTS"] = string.Join(' ', prometheus),
            ["CE_RABBIT_USER"] = User,
            ["CE_RABBIT_PASSWORD"] = Password,
        };
        if (certificates is not null)
        {
            environment["CE_CLUSTER_TLS_PORTS"] = string.Join(' ', tls);
            environment["CE_CLUSTER_TLS_DIR"] = Path.Combine(folder, "tls");
        }

        management = ManagementApi.Client(Rabbit(1, 2, 3));
    }

    public string Prefix { get; }

    public IReadOnlyList<int> AmqpPorts { get; }

    public IReadOnlyList<int> ManagementPorts { get; }

    /// <summary>Each node's AMQP-over-TLS port (empty when started without certificates).</summary>
    public IReadOnlyList<int> TlsPorts { get; }

    /// <summary>The throwaway CA and server certificate of the TLS listeners (null without TLS).</summary>
    public ThrowawayCertificates? Certificates { get; }

    /// <summary>The management API (of the first node that answers), as the cluster's administrator.</summary>
    public HttpClient Management => management;

    /// <summary>The Erlang node name of node <paramref name="node"/> (1-based).</summary>
    public string NodeName(int node) => $"{Prefix}-{node}@localhost";

    /// <summary>The node number of an Erlang node name.</summary>
    public int NodeNumber(string name) => int.Parse(name[(Prefix.Length + 1)..name.IndexOf('@', StringComparison.Ordinal)], CultureInfo.InvariantCulture);

    /// <summary>
    /// Settings for a process that connects to the cluster, trying the nodes in the given order
    /// (so two processes may be put on different nodes), on the vhost <c>campaign-events</c>.
    /// </summary>
    public RabbitMqOptions Rabbit(params int[] order) => Rabbit("campaign-events", order);

    public RabbitMqOptions Rabbit(string vhost, params int[] order) => new()
    {
        Hosts = string.Join(',', order.Select(n => $"127.0.0.1:{AmqpPorts[n - 1]}")),
        ManagementHosts = string.Join(',', order.Select(n => $"127.0.0.1:{ManagementPorts[n - 1]}")),
        VirtualHost = vhost,
        Username = User,
        Password = Password,
    };

    /// <summary>
    /// Settings for a process that connects to the cluster over TLS, verifying the nodes' certificate
    /// with the throwaway CA, trying the nodes in the given order, as the cluster's administrator.
    /// </summary>
    public RabbitMqOptions RabbitTls(string vhost, params int[] order)
    {
        var certificates = Certificates ?? throw new InvalidOperationException("the cluster was started without TLS listeners");
        var rabbit = Rabbit(vhost, order);
        rabbit.Hosts = string.Join(',', order.Select(n => $"127.0.0.1:{TlsPorts[n - 1]}"));
        rabbit.Tls = new RabbitMqTlsOptions { Enabled = true, CaFile = certificates.CaFile };
        return rabbit;
    }

    /// <param name="certificates">Also listen for AMQP over TLS with these (the cluster disposes of them).</param>
    public static async Task<ThrowawayRabbitCluster> Start(ThrowawayCertificates? certificates = null)
    {
        ThrowawayServers.Require(File.Exists("/usr/lib/rabbitmq/bin/rabbitmq-server") && Environment.UserName == "root", "a throwaway RabbitMQ cluster needs root and rabbitmq-server (infra/up.sh installs it)");

        var folder = Path.Combine(Path.GetTempPath(), $"ce-cluster-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        var prefix = $"cet{Path.GetFileName(folder)[^6..]}";
        int[] Ports() => [ThrowawayServers.FreePort(), ThrowawayServers.FreePort(), ThrowawayServers.FreePort()];
        var cluster = new ThrowawayRabbitCluster(folder, prefix, Ports(), Ports(), Ports(), Ports(), certificates is null ? [] : Ports(), certificates);
        try
        {
            if (certificates is not null)
            {
                // the nodes run as the rabbitmq user: the files in a folder of the cluster's it can read
                var tls = Directory.CreateDirectory(Path.Combine(folder, "tls")).FullName;
                foreach (var file in new[] { certificates.CaFile, certificates.ServerCertificateFile, certificates.ServerKeyFile })
                {
                    File.Copy(file, Path.Combine(tls, Path.GetFileName(file)));
                }

                await ProcessRunner.Run("chown", ["-R", "rabbitmq:rabbitmq", tls]);
            }

            await cluster.Script("up");
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }

        return cluster;
    }

    /// <summary>Stops node <paramref name="node"/>'s RabbitMQ application (rabbitmqctl stop_app): its clients lose their connections.</summary>
    public Task StopNode(int node) => Script("stop-node", node.ToString(CultureInfo.InvariantCulture));

    /// <summary>Starts it again and waits until the cluster runs all its nodes.</summary>
    public Task StartNode(int node) => Script("start-node", node.ToString(CultureInfo.InvariantCulture));

    /// <summary>
    /// A vhost of its own for a test, with the cluster administrator's permissions, the role users'
    /// (infra/cluster.sh creates the users) and the broker policies of
    /// infra/compose/rabbitmq-definitions.json (those infra/cluster.sh applies to its own vhost).
    /// </summary>
    public async Task<string> CreateVhost()
    {
        var name = $"ce-cluster-{Guid.NewGuid():N}"[..24];
        (await management.PutAsync($"api/vhosts/{name}", null)).EnsureSuccessStatusCode();
        (await management.PutAsJsonAsync($"api/permissions/{name}/{User}", new { configure = ".*", write = ".*", read = ".*" })).EnsureSuccessStatusCode();
        await Identities.GrantBroker(management, name);
        using var definitions = JsonDocument.Parse(await File.ReadAllTextAsync(Repository.PathOf("infra/compose/rabbitmq-definitions.json")));
        foreach (var policy in definitions.RootElement.GetProperty("policies").EnumerateArray())
        {
            var body = new Dictionary<string, JsonElement>
            {
                ["pattern"] = policy.GetProperty("pattern"),
                ["apply-to"] = policy.GetProperty("apply-to"),
                ["priority"] = policy.GetProperty("priority"),
                ["definition"] = policy.GetProperty("definition"),
            };
            var policyName = Uri.EscapeDataString(policy.GetProperty("name").GetString()!);
            (await management.PutAsJsonAsync($"api/policies/{name}/{policyName}", body)).EnsureSuccessStatusCode();
        }

        return name;
    }

    public async Task DeleteVhost(string name) => await management.DeleteAsync($"api/vhosts/{name}");

    /// <summary>A queue as the management API shows it (leader, members, online, messages …), or null when it does not exist.</summary>
    public async Task<JsonElement?> Queue(string vhost, string queue)
    {
        using var http = ManagementApi.Client(Rabbit(vhost, 1, 2, 3));
        using var response = await http.GetAsync($"api/queues/{Uri.EscapeDataString(vhost)}/{queue}");
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }

        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>The nodes the cluster runs now, as the management API of a running node sees them.</summary>
    public async Task<IReadOnlyList<string>> RunningNodes()
    {
        using var http = ManagementApi.Client(Rabbit(1, 2, 3));
        var nodes = await http.GetFromJsonAsync<JsonElement>("api/nodes?columns=name,running");
        return [.. nodes.EnumerateArray().Where(n => n.GetProperty("running").GetBoolean()).Select(n => n.GetProperty("name").GetString()!)];
    }

    /// <summary>Which node each client connection of the vhost is on, by the connection's client-provided name.</summary>
    public async Task<IReadOnlyList<(string Name, string Node)>> Connections(string vhost)
    {
        using var http = ManagementApi.Client(Rabbit(vhost, 1, 2, 3));
        var connections = await http.GetFromJsonAsync<JsonElement>($"api/vhosts/{Uri.EscapeDataString(vhost)}/connections");
        return [.. connections.EnumerateArray().Select(c => (
            c.TryGetProperty("client_properties", out var client) && client.TryGetProperty("connection_name", out var name) ? name.GetString() ?? "" : "",
            c.GetProperty("node").GetString()!))];
    }

    /// <summary>Runs infra/cluster.sh with this cluster's names, ports and folder.</summary>
    Task Script(params string[] arguments) =>
        ProcessRunner.Run("bash", [Repository.PathOf("infra/cluster.sh"), .. arguments], environment);

    public async ValueTask DisposeAsync()
    {
        management.Dispose();
        try
        {
            await Script("down");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
            Certificates?.Dispose();
        }
    }
}
