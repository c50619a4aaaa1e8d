using System.Net.Http.Json;
using System.Text.Json;
using CampaignEvents.Cli.Hosting;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.IntegrationTests.Cli;
using CampaignEvents.IntegrationTests.Pipeline;
using CampaignEvents.IntegrationTests.Source;
using CampaignEvents.TestSupport;
using CampaignEvents.TestSupport.Stack;
using Dapper;
using Xunit;

namespace CampaignEvents.IntegrationTests.Cluster;

/// <summary>
/// AMQP over TLS across a cluster (issue 15, part 3, with docs/adr/0012): <c>campaign-events run</c>
/// as the pipeline job, given every node's TLS port in RabbitMq:Hosts and the throwaway CA in
/// RabbitMq:Tls:CaFile, syncs contacts; the node it is connected to stops; it connects to another
/// node, over TLS again with the certificate verified, and every contact arrives.
/// </summary>
[Collection(RabbitClusterCollection.Name)]
public sealed class TlsFailoverTests(RabbitClusterFixture fixture, IsolatedVhost vhost) : IClassFixture<IsolatedVhost>
{
    static readonly TimeSpan Deadline = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task When_the_node_of_the_pipelines_TLS_connection_stops_it_reconnects_to_another_over_TLS_and_every_contact_arrives()
    {
        var cluster = await fixture.Cluster();
        var clusterVhost = await cluster.CreateVhost();
        int? stopped = null;
        await using var world = await SourceWorld.Create(vhost, "cltls");
        try
        {
            var campaigns = await world.CreateCampaigns(2);
            await Insert(world, campaigns, 0, 50);

            // deployed as operators do: the topology as the cluster's administrator (migrate --topology)
            var tls = cluster.RabbitTls(clusterVhost, 1, 2, 3);
            world.Settings["RabbitMq:VirtualHost"] = clusterVhost;
            world.Settings["RabbitMq:Username"] = tls.Username;
            world.Settings["RabbitMq:Password"] = tls.Password;
            world.Settings["RabbitMq:Hosts"] = tls.Hosts;
            world.Settings["RabbitMq:ManagementHosts"] = tls.ManagementHosts;
            world.Settings["RabbitMq:Tls:Enabled"] = "true";
            world.Settings["RabbitMq:Tls:CaFile"] = tls.Tls.CaFile;
            await RoleHosts.DeclareTopology([Role.Source, Role.Sync, Role.Reconcile], world.Settings);

            // every role in one process, as the pipeline's job, over TLS only: the plain ports are not listed
            var environment = Identities.As(Job.Pipeline, world.Settings).ToDictionary(s => s.Key.Replace(":", "__", StringComparison.Ordinal), s => s.Value);
            environment["RabbitMq__Host"] = null;
            environment["RabbitMq__Port"] = null;
            environment["Logging__LogLevel__Default"] = "Warning";
            environment["Observability__MetricsPort"] = "0";
            environment["Observability__HealthPort"] = "0";
            await using var run = RunProcess.Start(["run"], environment);
            await world.LocalEqualsSource(Deadline, context: () => $"\n{run}");

            var before = await ProductConnections(cluster, clusterVhost, run);
            AssertTlsAsPipeline(before);
            var node = cluster.NodeNumber(before[0].Node);
            stopped = node;
            await cluster.StopNode(node);

            // changes made while the node is down still arrive, through a TLS connection to another node
            await Insert(world, campaigns, 50, 50);
            var after = await ProductConnections(cluster, clusterVhost, run, without: cluster.NodeName(node));
            AssertTlsAsPipeline(after);
            await world.LocalEqualsSource(Deadline, context: () => $"\nconnections: {string.Join(", ", after)}\n{run}");
            await using (var local = new Npgsql.NpgsqlConnection(world.LocalDb.ConnectionString))
            {
                Assert.Equal(100, await local.ExecuteScalarAsync<long>("SELECT count(*) FROM contacts"));
            }
        }
        finally
        {
            // the collection's next test finds every node running
            if (stopped is { } node)
            {
                await cluster.StartNode(node);
            }

            await cluster.DeleteVhost(clusterVhost);
        }
    }

    static void AssertTlsAsPipeline(IReadOnlyList<Connection> connections) =>
        Assert.All(connections, c =>
        {
            Assert.True(c.Ssl, $"{c.Name} on {c.Node} is not over TLS");
            Assert.Equal(Identities.BrokerUser(Job.Pipeline), c.User);
        });

    static async Task Insert(SourceWorld world, Guid[] campaigns, int from, int count)
    {
        await using var source = await world.Source.OpenConnectionAsync();
        await source.ExecuteAsync(
            """
            INSERT INTO contacts (campaign_id, phone_number, metadata)
            SELECT (@campaigns)[1 + g % @length], '+1415' || (4000000 + g)::text, jsonb_build_object('n', g)
            FROM generate_series(@from, @to - 1) g
            """,
            new { campaigns, length = campaigns.Length, from, to = from + count });
    }

    sealed record Connection(string Name, string Node, string User, bool Ssl);

    /// <summary>Waits until the product's connections (client-provided name "campaign-events …") are listed, none on <paramref name="without"/>, and returns them.</summary>
    static async Task<IReadOnlyList<Connection>> ProductConnections(ThrowawayRabbitCluster cluster, string clusterVhost, RunProcess run, string? without = null)
    {
        IReadOnlyList<Connection> found = [];
        await Eventually.Until(async () =>
        {
            using var http = ManagementApi.Client(cluster.Rabbit(clusterVhost, 1, 2, 3));
            var connections = await http.GetFromJsonAsync<JsonElement>($"api/vhosts/{Uri.EscapeDataString(clusterVhost)}/connections");
            found = [.. connections.EnumerateArray()
                .Select(c => new Connection(
                    c.TryGetProperty("client_properties", out var client) && client.TryGetProperty("connection_name", out var name) ? name.GetString() ?? "" : "",
                    c.GetProperty("node").GetString()!,
                    c.GetProperty("user").GetString()!,
                    c.TryGetProperty("ssl", out var ssl) && ssl.ValueKind == JsonValueKind.True))
                .Where(c => c.Name.StartsWith("campaign-events ", StringComparison.Ordinal))];
            return found.Count > 0 && found.All(c => c.Node != without && c.User == Identities.BrokerUser(Job.Pipeline));
        }, Deadline, () => $"the pipeline's connections listed{(without is null ? "" : $" on nodes other than {without}")}: {string.Join(", ", found)}\n{run}");
        return found;
    }
}
