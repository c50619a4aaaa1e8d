using CampaignEvents.TestSupport.Stack;
using Xunit;

namespace CampaignEvents.IntegrationTests.Cluster;

/// <summary>
/// One throwaway 3-node RabbitMQ cluster for every test of the collection (starting one takes about
/// a minute on 2 cores). Started by the first test that asks, inside the test, so a machine that
/// cannot run it skips that test with the reason (and fails it under CI=true) like ThrowawayRabbitMq.
/// Each test works in a vhost of its own and leaves every node running. The nodes also listen for
/// AMQP over TLS (a throwaway CA's certificate) for <see cref="TlsFailoverTests"/>.
/// </summary>
public sealed class RabbitClusterFixture : IAsyncDisposable
{
    readonly SemaphoreSlim gate = new(1, 1);
    ThrowawayRabbitCluster? cluster;

    public async Task<ThrowawayRabbitCluster> Cluster()
    {
        await gate.WaitAsync();
        try
        {
            return cluster ??= await ThrowawayRabbitCluster.Start(await ThrowawayCertificates.Create());
        }
        finally
        {
            gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (cluster is not null)
        {
            await cluster.DisposeAsync();
        }

        gate.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class RabbitClusterCollection : ICollectionFixture<RabbitClusterFixture>
{
    public const string Name = "RabbitMQ cluster";
}
