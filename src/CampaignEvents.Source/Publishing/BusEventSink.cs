using CampaignEvents.Contracts;
using MassTransit;

namespace CampaignEvents.Source.Publishing;

/// <summary>Publishes through MassTransit; with publisher confirms on, the task completes when the broker confirmed.</summary>
public sealed class BusEventSink(IBus bus) : IEventSink
{
    public Task Publish(CampaignChanged campaign, CancellationToken cancel) => bus.Publish(campaign, cancel);

    public Task Publish(ContactChangeBatch batch, CancellationToken cancel) => bus.Publish(batch, cancel);
}
