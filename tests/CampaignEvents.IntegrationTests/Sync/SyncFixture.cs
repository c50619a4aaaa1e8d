using CampaignEvents.TestSupport.Stack;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RabbitMQ.Client;
using Xunit;

namespace CampaignEvents.IntegrationTests.Sync;

/// <summary>One database, one vhost and one running sync host for a test class.</summary>
public sealed class SyncFixture : IAsyncLifetime
{
    public IsolatedDatabase Database { get; } = new();

    public IsolatedVhost Vhost { get; } = new();

    public IHost Host { get; private set; } = null!;

    public IConnection Broker { get; private set; } = null!;

    IHost? otherRoles;

    /// <summary>
    /// A bus that publishes what the other roles publish (the adapter's events, through MassTransit):
    /// a second sync host as the pipeline job, whose user may write to the contract's exchanges; the
    /// sync job's may not (docs/adr/0015).
    /// </summary>
    public async Task<IPublishEndpoint> OtherRoles()
    {
        otherRoles ??= await SyncHarness.StartSync(Database.Connection.ConnectionString, Vhost.Rabbit, job: Job.Pipeline);
        return otherRoles.Services.GetRequiredService<IPublishEndpoint>();
    }

    public async ValueTask InitializeAsync()
    {
        await Database.InitializeAsync();
        await Vhost.InitializeAsync();
        Host = await SyncHarness.StartSync(Database.Connection.ConnectionString, Vhost.Rabbit);
        Broker = await SyncHarness.Connect(Vhost.Rabbit);

        // the guard: the sync host is connected as the sync job's user, not as the administrator
        var connections = await Identities.RequireJobUsersOnBroker(Vhost.Management, Vhost.Name);
        Assert.All(connections, c => Assert.Equal(Identities.BrokerUser(Job.Sync), c.User));
    }

    public async ValueTask DisposeAsync()
    {
        if (Broker is not null)
        {
            await Broker.DisposeAsync();
        }

        if (otherRoles is not null)
        {
            await otherRoles.StopAsync();
            otherRoles.Dispose();
        }

        if (Host is not null)
        {
            await Host.StopAsync();
            Host.Dispose();
        }

        await Vhost.DisposeAsync();
        await Database.DisposeAsync();
    }
}
