using System.CommandLine;
using System.Text;
using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Infrastructure.Messaging;
using Microsoft.Extensions.Configuration;
using RabbitMQ.Client;

namespace CampaignEvents.Cli.Commands;

/// <summary>
/// <c>errors show</c> lists what waits in an error queue and why; <c>errors replay</c> moves it
/// back to its queue once the cause is fixed (docs/adr/0002).
/// </summary>
public static class ErrorsCommand
{
    public static Command Create()
    {
        var queue = new Option<string>("--queue") { Description = "The queue whose error queue (<queue>_error) to use.", DefaultValueFactory = _ => Topology.ContactChangesQueue };
        var limit = new Option<int>("--limit") { Description = "At most this many messages (0: all).", DefaultValueFactory = _ => 0 };

        var show = new Command("show", "List the messages of <queue>_error with the reason each failed (header MT-Fault-Message); they stay in the queue.") { queue, limit };
        show.SetAction((parse, cancel) => Failures.Guard(() => Show(Rabbit(), parse.GetValue(queue)!, parse.GetValue(limit), Console.Out, cancel)));

        var replay = new Command("replay", "Move the messages of <queue>_error back to <queue> (without the fault headers) so the consumer tries them again; prints how many.") { queue, limit };
        replay.SetAction((parse, cancel) => Failures.Guard(async () =>
        {
            var moved = await Replay(Rabbit(), parse.GetValue(queue)!, parse.GetValue(limit), cancel);
            Console.WriteLine($"replayed {moved} message(s) from {Topology.ErrorQueue(parse.GetValue(queue)!)} to {parse.GetValue(queue)}");
            return 0;
        }));

        return new Command("errors", "Inspect and replay the error queues.") { show, replay };
    }

    static RabbitMqOptions Rabbit()
    {
        var options = new RabbitMqOptions();
        Settings.Load().GetSection(RabbitMqOptions.Section).Bind(options);
        return options;
    }

    static Task<IConnection> Connect(RabbitMqOptions rabbit, CancellationToken cancel) =>
        BrokerConnection.Open(rabbit, "campaign-events errors", cancel);

    /// <summary>How many messages wait in the error queue now, or a one-line error when it does not exist.</summary>
    static async Task<uint> Waiting(IConnection connection, string queue, CancellationToken cancel)
    {
        try
        {
            await using var probe = await connection.CreateChannelAsync(cancellationToken: cancel);
            return (await probe.QueueDeclarePassiveAsync(Topology.ErrorQueue(queue), cancel)).MessageCount;
        }
        catch (RabbitMQ.Client.Exceptions.OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 404)
        {
            throw new SettingsException($"queue {Topology.ErrorQueue(queue)} does not exist (yet): no message of {queue} has failed, or --queue names a queue this broker does not have", e);
        }
    }

    public static async Task<int> Show(RabbitMqOptions rabbit, string queue, int limit, TextWriter output, CancellationToken cancel)
    {
        await using var connection = await Connect(rabbit, cancel);
        var waiting = await Waiting(connection, queue, cancel);
        limit = limit == 0 ? (int)waiting : Math.Min(limit, (int)waiting);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancel);
        var shown = 0;
        // read without acknowledging; closing the channel puts them all back in order
        while (shown < limit)
        {
            var message = await channel.BasicGetAsync(Topology.ErrorQueue(queue), autoAck: false, cancel);
            if (message is null)
            {
                break;
            }

            shown++;
            var body = Encoding.UTF8.GetString(message.Body.Span);
            await output.WriteLineAsync($"{shown}. {Header(message.BasicProperties, "MT-Fault-ExceptionType")}: {Header(message.BasicProperties, "MT-Fault-Message")}");
            await output.WriteLineAsync($"   {(body.Length > 300 ? body[..300] + "..." : body)}");
        }

        await output.WriteLineAsync($"{shown} message(s) in {Topology.ErrorQueue(queue)}");
        return 0;
    }

    public static async Task<int> Replay(RabbitMqOptions rabbit, string queue, int limit, CancellationToken cancel)
    {
        await using var connection = await Connect(rabbit, cancel);

        // only what waits now: a message that fails again while we replay must not loop forever
        var waiting = await Waiting(connection, queue, cancel);
        limit = limit == 0 ? (int)waiting : Math.Min(limit, (int)waiting);
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), cancel);
        var moved = 0;
        while (moved < limit)
        {
            var message = await channel.BasicGetAsync(Topology.ErrorQueue(queue), autoAck: false, cancel);
            if (message is null)
            {
                break;
            }

            var properties = new BasicProperties(message.BasicProperties)
            {
                Headers = message.BasicProperties.Headers?
                    .Where(h => !h.Key.StartsWith("MT-Fault", StringComparison.OrdinalIgnoreCase)
                        && !h.Key.StartsWith("MT-Host", StringComparison.OrdinalIgnoreCase)
                        && !string.Equals(h.Key, "MT-Reason", StringComparison.OrdinalIgnoreCase)
                        // a replayed contact waits for its campaign again from the first step
                        && !h.Key.StartsWith("CE-Wait", StringComparison.OrdinalIgnoreCase))
                    .ToDictionary(h => h.Key, h => h.Value),
            };
            // straight to the queue (default exchange): other queues bound to the original exchange
            // must not see it twice; the consumer tells its kind by its shape (docs/adr/0002)
            await channel.BasicPublishAsync("", queue, mandatory: true, properties, message.Body, cancel);
            await channel.BasicAckAsync(message.DeliveryTag, multiple: false, cancel);
            moved++;
        }

        return moved;
    }

    static string Header(IReadOnlyBasicProperties properties, string name) =>
        properties.Headers is { } headers && headers.TryGetValue(name, out var value)
            ? value switch { byte[] bytes => Encoding.UTF8.GetString(bytes), null => "", _ => value.ToString() ?? "" }
            : "";
}
