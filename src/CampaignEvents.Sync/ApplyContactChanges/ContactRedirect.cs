using CampaignEvents.Infrastructure.Messaging;
using MassTransit;

namespace CampaignEvents.Sync.ApplyContactChanges;

/// <summary>
/// Moves one received contact message, body and headers as received, to another queue of the
/// project: a wait queue (its campaign is not there yet) or the error queue (it can never be
/// applied). The send is mandatory and confirmed before the caller lets the delivery be
/// acknowledged, so a crash in between duplicates the message, never loses it (docs/adr/0002).
/// </summary>
internal static class ContactRedirect
{
    /// <summary>The contact exchange a message was first published to, carried through wait queues and back.</summary>
    public const string ExchangeHeader = "CE-Exchange";

    /// <summary>How many times the message has already waited for its campaign.</summary>
    public const string WaitAttemptHeader = "CE-Wait-Attempt";

    /// <summary>When the message first found its campaign missing (ISO 8601, UTC).</summary>
    public const string WaitingSinceHeader = "CE-Waiting-Since";

    /// <summary>
    /// The contact exchange the message was published to: the delivery's own when it is one of
    /// ours; otherwise (back from a wait queue, replayed from the error queue) the one recorded in
    /// <see cref="ExchangeHeader"/>, if any; <c>null</c> leaves the kind to the message's shape.
    /// </summary>
    public static string? OriginalExchange(ReceiveContext receive)
    {
        var exchange = receive.TryGetPayload<RabbitMqBasicConsumeContext>(out var delivery) ? delivery.Exchange : null;
        if (exchange is Topology.ContactChangedExchange or Topology.ContactDeletedExchange or Topology.ContactChangeBatchExchange)
        {
            return exchange;
        }

        return receive.TransportHeaders.Get<string>(ExchangeHeader) is { Length: > 0 } recorded ? recorded : null;
    }

    /// <summary>Parks the message in <paramref name="waitQueue"/>, whose TTL dead-letters it back to <c>contact-changes</c>.</summary>
    public static Task ToWaitQueue(ConsumeContext<ContactWire> context, string waitQueue, int attempt, DateTimeOffset waitingSince) =>
        Send(context, waitQueue, headers =>
        {
            headers.Set(WaitAttemptHeader, attempt);
            headers.Set(WaitingSinceHeader, waitingSince.UtcDateTime.ToString("O"));
        });

    /// <summary>
    /// Puts the message in <c>contact-changes_error</c> with the fault headers MassTransit's own
    /// error transport writes (read by <c>errors show</c>, removed by <c>errors replay</c>).
    /// </summary>
    public static Task ToErrorQueue(ConsumeContext<ContactWire> context, Exception reason) =>
        Send(context, Topology.ErrorQueue(Topology.ContactChangesQueue), headers =>
        {
            headers.Set("MT-Reason", "fault");
            headers.Set("MT-Fault-ExceptionType", reason.GetType().FullName);
            headers.Set("MT-Fault-Message", reason.Message);
            headers.Set("MT-Fault-Timestamp", DateTime.UtcNow.ToString("O"));
            headers.Set("MT-Fault-ConsumerType", typeof(ContactChangesConsumer).FullName);
        });

    /// <summary>
    /// Longest wait for the broker's confirm of a redirect. RabbitMQ.Client 7.2 can leave a confirm
    /// pending for ever when the connection drops (rabbitmq/rabbitmq-dotnet-client#1930, docs/adr/0004):
    /// without a bound, the message's prefetch slot, and in time the consumer, would wait for ever.
    /// </summary>
    static readonly TimeSpan ConfirmTimeout = TimeSpan.FromSeconds(30);

    static async Task Send(ConsumeContext<ContactWire> context, string queue, Action<SendHeaders> headers)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        bounded.CancelAfter(ConfirmTimeout);
        // each of our queues has an exchange of its name bound to it (MassTransit's convention, and Topology's)
        var endpoint = await context.GetSendEndpoint(new Uri($"exchange:{queue}"));
        var exchange = OriginalExchange(context.ReceiveContext);
        await endpoint.Send(context.Message, send =>
        {
            foreach (var header in context.ReceiveContext.TransportHeaders.GetAll())
            {
                if (Carried(header.Key))
                {
                    send.Headers.Set(header.Key, header.Value);
                }
            }

            if (exchange is not null)
            {
                send.Headers.Set(ExchangeHeader, exchange);
            }

            headers(send.Headers);

            // a queue deleted by hand must make this send fail, not vanish (the delivery then stays unacknowledged)
            if (send.TryGetPayload<RabbitMqSendContext>(out var rabbit))
            {
                rabbit.Mandatory = true;
            }
        }, bounded.Token);
    }

    /// <summary>The publisher's own headers travel with the message; the broker's, MassTransit's fault headers and ours are written fresh.</summary>
    static bool Carried(string name) =>
        !name.StartsWith("x-", StringComparison.OrdinalIgnoreCase)
        && !name.StartsWith("MT-", StringComparison.OrdinalIgnoreCase)
        && !name.StartsWith("CE-", StringComparison.OrdinalIgnoreCase)
        && !name.StartsWith("RabbitMQ-", StringComparison.OrdinalIgnoreCase)
        && !string.Equals(name, "Content-Type", StringComparison.OrdinalIgnoreCase)
        && !string.Equals(name, "publishId", StringComparison.OrdinalIgnoreCase);
}
