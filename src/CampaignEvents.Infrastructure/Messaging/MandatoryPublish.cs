using CampaignEvents.Contracts;
using MassTransit;

namespace CampaignEvents.Infrastructure.Messaging;

/// <summary>A publish that no queue received: the broker returned it (mandatory), so it counts as not delivered.</summary>
public sealed class UnroutableMessageException(string exchange, Exception inner)
    : Exception($"RabbitMQ returned a message published to exchange {exchange}: no queue is bound to it (declare the topology: campaign-events migrate --topology, or start a sync role)", inner)
{
    public string Exchange { get; } = exchange;
}

public static class MandatoryPublish
{
    /// <summary>
    /// Publishes with the mandatory flag and publisher confirms: the task completes once the broker
    /// put the message in at least one queue, and fails with <see cref="UnroutableMessageException"/>
    /// when no queue is bound to the exchange. An unroutable message is a failure, never a delivery
    /// (docs/adr/0011).
    /// </summary>
    public static async Task PublishMandatory<T>(this IPublishEndpoint bus, T message, CancellationToken cancel)
        where T : class
    {
        try
        {
            await bus.Publish(message, context => context.Mandatory = true, cancel);
        }
        catch (MessageReturnedException e)
        {
            throw new UnroutableMessageException(ExchangeOf(typeof(T)), e);
        }
    }

    static string ExchangeOf(Type type) => type == typeof(ContactChangeBatch) ? Topology.ContactChangeBatchExchange
        : type == typeof(ContactChanged) ? Topology.ContactChangedExchange
        : type == typeof(ContactDeleted) ? Topology.ContactDeletedExchange
        : type == typeof(CampaignChanged) ? Topology.CampaignChangedExchange
        : type.Name;

    /// <summary>The unroutable publish behind <paramref name="e"/>, if that is what it is.</summary>
    public static UnroutableMessageException? Unroutable(Exception e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is UnroutableMessageException unroutable)
            {
                return unroutable;
            }

            if (inner is AggregateException aggregate && aggregate.InnerExceptions.Select(Unroutable).FirstOrDefault(u => u is not null) is { } found)
            {
                return found;
            }
        }

        return null;
    }
}
