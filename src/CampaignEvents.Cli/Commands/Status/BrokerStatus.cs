using System.Net.Http.Json;
using System.Text.Json;
using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.Sync.Configuration;

namespace CampaignEvents.Cli.Commands.Status;

/// <summary>
/// The broker's part of <c>status</c>, from the RabbitMQ management API: the depth, consumers,
/// leader and replicas of the queues operators watch, the connections and the cluster's nodes.
/// </summary>
static class BrokerStatus
{
    static readonly string[] Queues =
    [
        Topology.ContactChangesQueue, Topology.ErrorQueue(Topology.ContactChangesQueue),
        Topology.CampaignChangesQueue, Topology.ErrorQueue(Topology.CampaignChangesQueue),
        Topology.ReconciliationQueue, Topology.ErrorQueue(Topology.ReconciliationQueue),
    ];

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
    public static async Task<(IReadOnlyList<ConnectionStatus>, IReadOnlyList<NodeStatus>)> ConnectionsAndNodes(RabbitMqOptions rabbit, CancellationToken cancel)
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

    static string? Text(JsonElement json, string name) =>
        json.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    static IReadOnlyList<string>? Names(JsonElement json, string name) =>
        json.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array
            ? [.. value.EnumerateArray().Select(v => v.GetString() ?? "?")]
            : null;

    /// <summary>The RabbitMQ management API (dashboard port), authenticated as the configured user.</summary>
    static HttpClient ManagementClient(RabbitMqOptions rabbit)
    {
        var http = ManagementApi.Client(rabbit);
        http.Timeout = TimeSpan.FromSeconds(10);
        return http;
    }

    static long Number(JsonElement json, string name) =>
        json.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt64() : 0;
}
