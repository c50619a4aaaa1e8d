using CampaignEvents.Contracts;
using CampaignEvents.Infrastructure.Messaging;
using MassTransit;

namespace CampaignEvents.Source.Publishing;

/// <summary>
/// Publishes through MassTransit, mandatory and confirmed: the task completes when the broker put
/// the message in a queue, and fails when none received it, so the slot never advances past it.
/// </summary>
internal sealed class BusEventSink(IBus bus) : IEventSink
{
    public Task Publish(CampaignChanged campaign, CancellationToken cancel) => bus.PublishMandatory(campaign, cancel);

    public Task Publish(ContactChangeBatch batch, CancellationToken cancel) => bus.PublishMandatory(batch, cancel);
}
