using CampaignEvents.Infrastructure.Configuration;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace CampaignEvents.Infrastructure.Messaging;

/// <summary>
/// The product's broker topology, declared idempotently: the whole of it by <c>campaign-events
/// migrate --topology</c> (an administrator, at deployment), and by each role at start (and by the
/// source adapter whenever a publish came back unroutable) the parts it uses, which are the names
/// its broker user may configure (docs/adr/0015): the contract's exchanges, every consumer queue
/// (quorum) with its error queue, the bindings between them, and the wait queues of contacts whose
/// campaign is not there yet. Once migrate --topology ran, a publish never finds an exchange
/// without its queue, whichever process starts first (docs/adr/0011). The shapes are exactly
/// MassTransit's own (a fanout exchange of each queue's name bound to it, quorum queues without
/// other arguments), so its declarations and ours agree.
/// </summary>
public sealed class BrokerTopology
{
    /// <summary>Each consumed queue, the part it belongs to and the exchanges bound to it.</summary>
    static readonly (string Queue, TopologyParts Part, string[] Sources)[] ConsumerQueues =
    [
        (Topology.ContactChangesQueue, TopologyParts.Sync, [Topology.ContactChangedExchange, Topology.ContactDeletedExchange, Topology.ContactChangeBatchExchange]),
        (Topology.CampaignChangesQueue, TopologyParts.Sync, [Topology.CampaignChangedExchange]),
        (Topology.ReconciliationQueue, TopologyParts.Reconcile, [Topology.ReconcileCampaignExchange]),
        (Topology.ReconciliationSourceDigestQueue, TopologyParts.SourceSide, []),
        (Topology.ReconciliationSourceKeysQueue, TopologyParts.SourceSide, []),
        (Topology.ReconciliationSourceRepairQueue, TopologyParts.SourceSide, []),
        (Topology.ReconciliationSourceCampaignsQueue, TopologyParts.SourceSide, []),
    ];

    static readonly Dictionary<string, object?> Quorum = new() { ["x-queue-type"] = "quorum" };

    readonly RabbitMqOptions rabbit;
    readonly IReadOnlyList<TimeSpan> waits;
    readonly TopologyParts parts;

    /// <param name="rabbit">The broker and the identity to declare with (RabbitMq settings).</param>
    /// <param name="waits">The back-off steps of contacts waiting for their campaign (Sync:CampaignWaitIntervals); one wait queue each.</param>
    /// <param name="parts">What to declare: everything by default, or the parts of the roles a process hosts.</param>
    public BrokerTopology(RabbitMqOptions rabbit, IEnumerable<TimeSpan> waits, TopologyParts parts = TopologyParts.All)
    {
        this.rabbit = rabbit;
        this.waits = [.. waits.Distinct().Order()];
        this.parts = parts;
    }

    /// <summary>Declares its parts (creating what is missing, leaving what exists); returns the queues, in order.</summary>
    public async Task<IReadOnlyList<string>> Declare(CancellationToken cancel)
    {
        await using var connection = await BrokerConnection.Open(rabbit, "campaign-events topology", cancel);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancel);
        var queues = new List<string>();
        try
        {
            var exchanges = new List<string>();
            if ((parts & (TopologyParts.Contract | TopologyParts.Sync)) != 0)
            {
                exchanges.AddRange(Topology.ContractExchanges);
            }

            if (parts.HasFlag(TopologyParts.Reconcile))
            {
                exchanges.AddRange([Topology.ReconcileCampaignExchange, Topology.CampaignReconciledExchange]);
            }

            foreach (var exchange in exchanges)
            {
                await channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancel);
            }

            foreach (var (queue, part, sources) in ConsumerQueues.Where(q => parts.HasFlag(q.Part)))
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

            foreach (var wait in parts.HasFlag(TopologyParts.Sync) ? waits : [])
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
        catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 403)
        {
            throw new SettingsException(
                $"the broker at {rabbit.Describe()} refused a declaration ({e.ShutdownReason.ReplyText}): the user's permissions do not cover this role's queues and exchanges; grant those of infra/compose/rabbitmq-definitions.json (README: Identities and permissions, setting RabbitMq:Username)",
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

/// <summary>The parts of the topology, by the role that uses them.</summary>
[Flags]
public enum TopologyParts
{
    None = 0,

    /// <summary>The contract's exchanges (the source adapter publishes to them).</summary>
    Contract = 1,

    /// <summary>contact-changes and campaign-changes bound to the contract's exchanges, their error and wait queues.</summary>
    Sync = 2,

    /// <summary>reconciliation bound to reconcile-campaign, its error queue, campaign-reconciled.</summary>
    Reconcile = 4,

    /// <summary>The source side of reconciliation: its four queues and their error queues.</summary>
    SourceSide = 8,

    All = Contract | Sync | Reconcile | SourceSide,
}
