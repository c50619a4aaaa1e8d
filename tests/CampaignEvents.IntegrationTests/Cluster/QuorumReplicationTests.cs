using System.Net.Http.Json;
using System.Text.Json;
using CampaignEvents.TestSupport;
using CampaignEvents.TestSupport.Stack;
using Xunit;

namespace CampaignEvents.IntegrationTests.Cluster;

/// <summary>
/// Every queue of the product's topology, declared on a 3-node cluster, is a quorum queue with a
/// replica on each node: the consumer queues, their error queues and the wait queues (RabbitMQ
/// 3.10 places min(quorum_cluster_size = 3, running nodes) members when no
/// x-quorum-initial-group-size is given; docs/adr/0012).
/// </summary>
[Collection(RabbitClusterCollection.Name)]
public sealed class QuorumReplicationTests(RabbitClusterFixture fixture, IsolatedDatabase local) : IClassFixture<IsolatedDatabase>
{
    [Fact]
    public async Task Every_queue_the_topology_declares_on_a_3_node_cluster_has_a_replica_on_each_node()
    {
        var cluster = await fixture.Cluster();
        var vhost = await cluster.CreateVhost();
        try
        {
            var rabbit = cluster.Rabbit(vhost, 2, 3, 1);
            var result = await CliProcess.Run(["migrate", "--topology"], new Dictionary<string, string?>
            {
                ["ConnectionStrings__Contacts"] = local.Connection.ConnectionString,
                ["RabbitMq__Hosts"] = rabbit.Hosts,
                ["RabbitMq__VirtualHost"] = vhost,
                ["RabbitMq__Username"] = rabbit.Username,
                ["RabbitMq__Password"] = rabbit.Password,
            });
            Assert.True(result.ExitCode == 0, result.ToString());

            var queues = (await cluster.Management.GetFromJsonAsync<JsonElement>($"api/queues/{Uri.EscapeDataString(vhost)}"))
                .EnumerateArray().ToList();
            Assert.Contains(queues, q => q.GetProperty("name").GetString()!.EndsWith("_error", StringComparison.Ordinal));
            Assert.Contains(queues, q => q.GetProperty("name").GetString()!.StartsWith("contact-changes-wait-", StringComparison.Ordinal));
            var nodes = Enumerable.Range(1, 3).Select(cluster.NodeName).Order().ToList();
            foreach (var queue in queues)
            {
                var name = queue.GetProperty("name").GetString();
                Assert.True(queue.GetProperty("type").GetString() == "quorum", $"{name} is {queue.GetProperty("type")}");
                Assert.Equal(nodes, queue.GetProperty("members").EnumerateArray().Select(m => m.GetString()!).Order().ToList());
            }

            // the broker policies hold on the cluster too: a poison message is dead-lettered after 20
            // deliveries, an error queue is bounded (the management API shows a queue's policy with
            // its statistics, which a node emits every few seconds)
            JsonElement? last = null;
            await Eventually.Until(
                async () =>
                {
                    last = await cluster.Queue(vhost, "contact-changes");
                    return last is { } q && q.TryGetProperty("effective_policy_definition", out var d) && d.ValueKind == JsonValueKind.Object
                        && d.TryGetProperty("delivery-limit", out var limit) && limit.GetInt32() == 20;
                },
                TimeSpan.FromSeconds(60),
                () => $"contact-changes with delivery-limit 20 in its effective policy; it is {last}");
            await Eventually.Until(
                async () =>
                {
                    last = await cluster.Queue(vhost, "contact-changes_error");
                    return last is { } q && q.TryGetProperty("effective_policy_definition", out var d) && d.ValueKind == JsonValueKind.Object
                        && d.TryGetProperty("max-length-bytes", out var max) && max.GetInt64() == 1073741824L;
                },
                TimeSpan.FromSeconds(60),
                () => $"contact-changes_error bounded to 1 GiB by its effective policy; it is {last}");

            // and infra/cluster.sh applied them, and the per-role users' permissions, to the vhost it provisions
            var provisioned = (await cluster.Management.GetFromJsonAsync<JsonElement>("api/policies/campaign-events")).EnumerateArray()
                .Select(p => p.GetProperty("name").GetString()).ToList();
            Assert.Contains("contact-changes-redelivery-limit", provisioned);
            Assert.Contains("error-queues-bounded", provisioned);
            var permitted = (await cluster.Management.GetFromJsonAsync<JsonElement>("api/vhosts/campaign-events/permissions")).EnumerateArray()
                .Select(p => p.GetProperty("user").GetString()).ToList();
            Assert.Contains("campaign-events-sync", permitted);
            Assert.Contains("campaign-events-publisher", permitted);
        }
        finally
        {
            await cluster.DeleteVhost(vhost);
        }
    }
}
