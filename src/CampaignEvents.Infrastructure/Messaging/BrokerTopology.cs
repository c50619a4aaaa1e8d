using CampaignEvents.Infrastructure.Configuration;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace CampaignEvents.Infrastructure.Messaging;

/// <summary>
/// The product's whole broker topology, declared idempotently by every role at start, by the
/// source adapter whenever a publish came back unroutable, and by <c>campaign-events migrate
/// --topology</c>: the contract's exchanges, every consumer queue (quorum) with its error queue,
/// the bindings between them, and the wait queues of contacts whose campaign is not there yet.
/// So a publish never finds an exchange without its queue, whichever process starts first
/// (docs/adr/0011). The shapes are exactly MassTransit's own (a fanout exchange of each queue's
/// name bound to it, quorum queues without other arguments), so its declarations and ours agree.
/// </summary>
public sealed class BrokerTopology
{
    /// <summary>Each consumed queue and the contract exchanges bound to it.</summary>
    static readonly (string Queue, string[] Sources)[] ConsumerQueues =
    [
        (Topology.ContactChangesQueue, [Topology.ContactChangedExchange, Topology.ContactDeletedExchange, Topology.ContactChangeBatchExchange]),
        (Topology.CampaignChangesQueue, [Topology.CampaignChangedExchange]),
        (Topology.ReconciliationQueue, [Topology.ReconcileCampaignExchange]),
        (Topology.ReconciliationSourceDigestQueue, []),
        (Topology.ReconciliationSourceKeysQueue, []),
        (Topology.ReconciliationSourceRepairQueue, []),
        (Topology.ReconciliationSourceCampaignsQueue, []),
    ];

    static readonly Dictionary<string, object?> Quorum = new() { ["x-queue-type"] = "quorum" };

    readonly RabbitMqOptions rabbit;
    readonly IReadOnlyList<TimeSpan> waits;

    /// <param name="waits">The back-off steps of contacts waiting for their campaign (Sync:CampaignWaitIntervals); one wait queue each.</param>
    public BrokerTopology(RabbitMqOptions rabbit, IEnumerable<TimeSpan> waits)
    {
        this.rabbit = rabbit;
        this.waits = [.. waits.Distinct().Order()];
    }

    /// <summary>Declares everything (creating what is missing, leaving what exists); returns the queues, in order.</summary>
    public async Task<IReadOnlyList<string>> Declare(CancellationToken cancel)
    {
        await using var connection = await BrokerConnection.Open(rabbit, "campaign-events topology", cancel);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancel);
        var queues = new List<string>();
        try
        {
            foreach (var exchange in Topology.ContractExchanges.Append(Topology.ReconcileCampaignExchange).Append(Topology.CampaignReconciledExchange))
            {
                await channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancel);
            }

            foreach (var (queue, sources) in ConsumerQueues)
            {
                await Queue(channel, queue, Quorum, cancel);
                await Queue(channel, Topology.ErrorQueue(queue), Quorum, cancel);
                foreach (var source in sources)
                {
                    await channel.ExchangeBindAsync(queue, source, "", cancellationToken: cancel);
                }

                queues.Add(queue);
                queues.Add(Topology.ErrorQueue(queue));
            }

            foreach (var wait in waits)
            {
                await Queue(channel, Topology.WaitQueue(wait), WaitArguments(wait), cancel);
                queues.Add(Topology.WaitQueue(wait));
            }
        }
        catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 406)
        {
            throw new SettingsException(
                $"the broker at {rabbit.Describe()} has an exchange or queue of this name with other settings than campaign-events declares ({e.ShutdownReason.ReplyText}); delete it once it is empty, then start again",
                e);
        }

        return queues;
    }

    /// <summary>
    /// A wait queue keeps each message for its TTL, then dead-letters it back to contact-changes
    /// through the default exchange. At-least-once dead-lettering (quorum queues, RabbitMQ 3.10+)
    /// keeps a message until contact-changes has taken it; it needs reject-publish overflow.
    /// </summary>
    static Dictionary<string, object?> WaitArguments(TimeSpan wait) => new()
    {
        ["x-queue-type"] = "quorum",
        ["x-message-ttl"] = (long)wait.TotalMilliseconds,
        ["x-dead-letter-exchange"] = "",
        ["x-dead-letter-routing-key"] = Topology.ContactChangesQueue,
        ["x-dead-letter-strategy"] = "at-least-once",
        ["x-overflow"] = "reject-publish",
    };

    /// <summary>A queue with a fanout exchange of its name bound to it, as MassTransit declares its own.</summary>
    static async Task Queue(IChannel channel, string name, IDictionary<string, object?> arguments, CancellationToken cancel)
    {
        await channel.ExchangeDeclareAsync(name, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancel);
        await channel.QueueDeclareAsync(name, durable: true, exclusive: false, autoDelete: false, arguments: arguments, cancellationToken: cancel);
        await channel.QueueBindAsync(name, name, "", cancellationToken: cancel);
    }
}
