using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Infrastructure.Messaging;
using RabbitMQ.Client;

namespace CampaignEvents.Cli.Commands;

/// <summary>
/// <c>errors show</c> lists what waits in an error queue and why; <c>errors replay</c> moves it
/// back to its queue once the cause is fixed (docs/adr/0002).
/// </summary>
internal static class ErrorsCommand
{
    public static Command Create()
    {
        var queue = new Option<string>("--queue") { Description = "The queue whose error queue (<queue>_error) to use.", DefaultValueFactory = _ => Topology.ContactChangesQueue };
        var limit = new Option<int>("--limit") { Description = "At most this many messages (0: all).", DefaultValueFactory = _ => 0 };

        var json = new Option<bool>("--json") { Description = "Print the messages as JSON for scripts (whole bodies; fields in docs/json-output.md)." };
        var show = new Command("show", "List the messages of <queue>_error with the reason each failed (header MT-Fault-Message); they stay in the queue. Piped, one tab-separated line per message.") { queue, limit, json };
        show.SetAction((parse, cancel) => Failures.Guard(async () =>
        {
            var report = await Read(Rabbit(), parse.GetValue(queue)!, parse.GetValue(limit), cancel);
            await Write(report, parse.GetValue(json), terminal: !Console.IsOutputRedirected, Console.Out);
            return 0;
        }));

        var replay = new Command("replay", "Move the messages of <queue>_error back to <queue> (without the fault headers) so the consumer tries them again; prints how many.") { queue, limit };
        replay.SetAction((parse, cancel) => Failures.Guard(async () =>
        {
            var moved = await Replay(Rabbit(), parse.GetValue(queue)!, parse.GetValue(limit), cancel);
            Console.WriteLine($"replayed {moved} message(s) from {Topology.ErrorQueue(parse.GetValue(queue)!)} to {parse.GetValue(queue)}");
            return 0;
        }));

        return new Command("errors", "Inspect and replay the error queues.") { show, replay };
    }

    static RabbitMqOptions Rabbit() => Settings.Load().RabbitMq();

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

    /// <summary>Reads up to <paramref name="limit"/> messages of <c>&lt;queue&gt;_error</c> (0: all) and leaves them there, in order.</summary>
    public static async Task<ErrorQueueReport> Read(RabbitMqOptions rabbit, string queue, int limit, CancellationToken cancel)
    {
        await using var connection = await Connect(rabbit, cancel);
        var waiting = await Waiting(connection, queue, cancel);
        limit = limit == 0 ? (int)waiting : Math.Min(limit, (int)waiting);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancel);
        var messages = new List<ErrorMessage>();
        // read without acknowledging; closing the channel puts them all back in order
        while (messages.Count < limit)
        {
            var message = await channel.BasicGetAsync(Topology.ErrorQueue(queue), autoAck: false, cancel);
            if (message is null)
            {
                break;
            }

            var properties = message.BasicProperties;
            messages.Add(new ErrorMessage(
                messages.Count + 1,
                Header(properties, "MT-Fault-ExceptionType"),
                Header(properties, "MT-Fault-Message"),
                Header(properties, "MT-Fault-Timestamp") is { Length: > 0 } at ? at : null,
                properties.MessageId,
                properties.ContentType,
                Encoding.UTF8.GetString(message.Body.Span)));
        }

        return new ErrorQueueReport(Topology.ErrorQueue(queue), waiting, messages);
    }

    /// <summary>
    /// For people: each message's reason and the start of its body (two lines on a terminal, one
    /// tab-separated line when piped: position, exception type, reason, body); for scripts: JSON.
    /// </summary>
    public static async Task Write(ErrorQueueReport report, bool json, bool terminal, TextWriter output)
    {
        if (json)
        {
            await output.WriteLineAsync(JsonSerializer.Serialize(report, JsonOutput));
            return;
        }

        foreach (var m in report.Messages)
        {
            // the data's own line breaks and escapes (an ESC in a body) stay visible text, on a terminal too
            var (type, reason, body) = (CommandOutput.OneLine(m.ExceptionType), CommandOutput.OneLine(m.Reason), CommandOutput.OneLine(m.Body.Length > 300 ? m.Body[..300] + "..." : m.Body));
            await output.WriteLineAsync(terminal
                ? $"{m.Position}. {type}: {reason}\n   {body}"
                : string.Join('\t', m.Position.ToString(CultureInfo.InvariantCulture), type, reason, body));
        }

        await output.WriteLineAsync($"{report.Messages.Count} message(s) in {report.Queue}");
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

    static readonly JsonSerializerOptions JsonOutput = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    static string Header(IReadOnlyBasicProperties properties, string name) =>
        properties.Headers is { } headers && headers.TryGetValue(name, out var value)
            ? value switch { byte[] bytes => Encoding.UTF8.GetString(bytes), null => "", _ => value.ToString() ?? "" }
            : "";
}

/// <summary>What <c>errors show</c> read; also its <c>--json</c> shape (docs/json-output.md).</summary>
/// <param name="Queue">The error queue read, <c>&lt;queue&gt;_error</c>.</param>
/// <param name="Waiting">How many messages it held when the command looked (more than listed with <c>--limit</c>).</param>
internal sealed record ErrorQueueReport(string Queue, uint Waiting, IReadOnlyList<ErrorMessage> Messages);

/// <param name="Position">1 for the message at the head of the queue.</param>
/// <param name="ExceptionType">Header MT-Fault-ExceptionType: the kind of failure.</param>
/// <param name="Reason">Header MT-Fault-Message: why it failed.</param>
/// <param name="FaultedAt">Header MT-Fault-Timestamp (ISO 8601), when it was sent to the error queue; null when absent.</param>
/// <param name="Body">The whole body as UTF-8 text, as the publisher sent it.</param>
internal sealed record ErrorMessage(int Position, string ExceptionType, string Reason, string? FaultedAt, string? MessageId, string? ContentType, string Body);
