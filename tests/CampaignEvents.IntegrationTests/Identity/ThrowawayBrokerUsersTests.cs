using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.TestSupport.Stack;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using Xunit;

namespace CampaignEvents.IntegrationTests.Identity;

/// <summary>
/// A RabbitMQ node a test starts for itself has no <c>guest</c> (issue 15: "No guest anywhere"): it
/// is born with an administrator of its own, with a password generated per node, and the role users
/// of infra/compose/rabbitmq-definitions.json with their permissions.
/// </summary>
public sealed class ThrowawayBrokerUsersTests
{
    [Fact]
    public async Task A_throwaway_node_refuses_guest_and_has_its_own_administrator_and_the_role_users()
    {
        await using var broker = await ThrowawayRabbitMq.Start();
        await Assert.ThrowsAnyAsync<BrokerUnreachableException>(() => new ConnectionFactory { HostName = "127.0.0.1", Port = broker.Port, UserName = "guest", Password = "guest" }.CreateConnectionAsync());

        Assert.NotEqual("guest", broker.Rabbit.Username);
        await using (var admin = await BrokerConnection.Connect(broker.Rabbit, "throwaway admin test"))
        {
            await using var channel = await admin.CreateChannelAsync();
            await channel.QueueDeclareAsync("ce-admin-may-declare", durable: false, exclusive: true, autoDelete: true);
        }

        // a role user logs in with the shipped permissions: the publisher may not declare
        await using var publisher = await BrokerConnection.Connect(Identities.As(broker.Rabbit, Identities.BrokerUser(Job.Publisher)), "throwaway publisher test");
        await using var refused = await publisher.CreateChannelAsync();
        var e = await Assert.ThrowsAsync<OperationInterruptedException>(() => refused.QueueDeclareAsync("stash", durable: true, exclusive: false, autoDelete: false));
        Assert.Equal((ushort)403, e.ShutdownReason?.ReplyCode);
    }
}
