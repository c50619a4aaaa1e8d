using System.Text;
using CampaignEvents.Contracts.Reconciliation;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.TestSupport;
using CampaignEvents.TestSupport.Stack;
using MassTransit;
using Xunit;

namespace CampaignEvents.IntegrationTests.Broker;

/// <summary>
/// Reconciliation's requests have pinned names (BusRegistration.ConfigureWire): the exchange of the
/// source side's queue each goes to. So with the reconcile user's least-privilege permissions
/// (infra/compose/rabbitmq-definitions.json) on a vhost where the administrator declared the
/// topology, a request published by type, not only sent to the queue's address, reaches the queue
/// the source side consumes. Unpinned, the publish would declare an exchange named after the C#
/// namespace, which the reconcile user may not create.
/// </summary>
public sealed class RequestNamesTests(IsolatedVhost vhost) : IClassFixture<IsolatedVhost>
{
    [Fact]
    public async Task A_request_published_as_the_reconcile_user_reaches_the_queue_of_its_pinned_name()
    {
        var cancel = TestContext.Current.CancellationToken;
        await Identities.GrantBroker(vhost.Management, vhost.Name);
        await new BrokerTopology(vhost.Rabbit, []).Declare(cancel);
        var campaign = Guid.NewGuid();

        var reconcile = Identities.As(vhost.Rabbit, Identities.BrokerUser(Job.Reconcile));
        var bus = MassTransit.Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            BusRegistration.ConfigureHost(cfg, reconcile, "request names test");
            BusRegistration.ConfigureWire(cfg);
        });
        await bus.StartAsync(cancel);
        try
        {
            // publisher confirms: each publish returns once the broker took it; a refused exchange
            // declaration makes MassTransit try again and again, so the publishes have a deadline
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            deadline.CancelAfter(TimeSpan.FromSeconds(30));
            try
            {
                await bus.Publish(new DigestSourceContacts { CampaignId = campaign, Level = DigestLevel.Buckets }, deadline.Token);
                await bus.Publish(new ListSourceKeys { CampaignId = campaign, Phones = ["+33612345678"] }, deadline.Token);
                await bus.Publish(new RepairSourceContacts { CampaignId = campaign, Phones = ["+33612345678"] }, deadline.Token);
                await bus.Publish(new ListSourceCampaigns { RequestedBy = campaign }, deadline.Token);
            }
            catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
            {
                Assert.Fail("the broker did not take a request within 30 s: is its pinned name an exchange the reconcile user may write (infra/compose/rabbitmq-definitions.json)?");
            }
        }
        finally
        {
            using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await bus.StopAsync(stopping.Token);
        }

        await using var connection = await BrokerConnection.Connect(vhost.Rabbit, "request names test reader");
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancel);
        foreach (var queue in new[] { Topology.ReconciliationSourceDigestQueue, Topology.ReconciliationSourceKeysQueue, Topology.ReconciliationSourceRepairQueue, Topology.ReconciliationSourceCampaignsQueue })
        {
            string? body = null;
            await Eventually.Until(
                async () => (body = await channel.BasicGetAsync(queue, autoAck: true, cancel) is { } got ? Encoding.UTF8.GetString(got.Body.Span) : null) is not null,
                TimeSpan.FromSeconds(10),
                $"the request in {queue}");
            Assert.Contains(campaign.ToString(), body, StringComparison.Ordinal);
        }
    }
}
