using System.CommandLine;
using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Infrastructure.Messaging;
using RabbitMQ.Client;

namespace CampaignEvents.Cli.Commands.Publish;

/// <summary>
/// Publishes a file of JSON events, one per line, the way an upstream system in any language
/// would: plain JSON to the contract's exchanges, with publisher confirms.
/// </summary>
static class PublishCommand
{
    const int ConfirmWindow = 256;

    public static Command Create()
    {
        var file = new Option<FileInfo>("--file")
        {
            Description = "A file of JSON events, one object per line (JSON Lines); '-' reads standard input. Each line goes to the exchange its shape names: 'changes'/'deletes' → contact-change-batch, 'name'+'status' → campaign-changed, 'metadata' → contact-changed, otherwise contact-deleted.",
            Required = true,
        };
        var command = new Command("publish", "Publish a file of ContactChanged / ContactDeleted / ContactChangeBatch / CampaignChanged JSON events to RabbitMQ with publisher confirms, reporting accepted and rejected lines. Exit code 0 when every line was accepted, 2 when some were rejected.") { file };
        command.SetAction((parse, cancel) => Failures.Guard(() => Run(parse.GetRequiredValue(file), cancel)));
        return command;
    }

    static async Task<int> Run(FileInfo file, CancellationToken cancel)
    {
        // a wrong setting stops the command before any line is read
        var rabbit = Settings.Load().RabbitMq();
        var lines = new List<EventLine>();
        var rejected = 0;
        using (var reader = file.Name == "-" ? Console.In : OpenFile(file))
        {
            var number = 0;
            while (await reader.ReadLineAsync(cancel) is { } text)
            {
                number++;
                if (string.IsNullOrWhiteSpace(text))
                {
                    continue;
                }

                var (line, error) = EventLine.Parse(number, text);
                if (line is null)
                {
                    rejected++;
                    await Console.Error.WriteLineAsync($"line {number}: rejected: {error}");
                }
                else
                {
                    lines.Add(line);
                }
            }
        }

        await using var connection = await BrokerConnection.Open(rabbit, "campaign-events publish", cancel);
        await using var channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true,
                outstandingPublisherConfirmationsRateLimiter: new ThrottlingRateLimiter(ConfirmWindow)),
            cancel);
        foreach (var exchange in lines.Select(l => l.Exchange).Distinct())
        {
            // passive: an upstream publisher may write to the contract's exchanges, not declare them
            // (docs/adr/0015); they exist once `migrate --topology` or any role has run
            try
            {
                await channel.ExchangeDeclarePassiveAsync(exchange, cancel);
            }
            catch (RabbitMQ.Client.Exceptions.OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 404)
            {
                throw new SettingsException($"the broker at {rabbit.Describe()} has no exchange {exchange} yet: run campaign-events migrate --topology (as the broker's administrator) or start a role once");
            }
        }

        var properties = new BasicProperties { ContentType = "application/json", DeliveryMode = DeliveryModes.Persistent };
        var sends = lines.Select(async line =>
        {
            try
            {
                // mandatory: a message no queue would receive comes back instead of vanishing
                await channel.BasicPublishAsync(line.Exchange, "", mandatory: true, properties, line.Body, cancel);
                return (line, (string?)null);
            }
            catch (RabbitMQ.Client.Exceptions.PublishException e) when (e.IsReturn)
            {
                return (line, $"no queue receives exchange {line.Exchange} yet: start the consumers once (campaign-events run --role sync) so their queues exist");
            }
            catch (Exception e) when (e is RabbitMQ.Client.Exceptions.PublishException or RabbitMQ.Client.Exceptions.AlreadyClosedException)
            {
                return (line, e.Message);
            }
        }).ToList();
        var results = await Task.WhenAll(sends);
        foreach (var (line, error) in results.Where(r => r.Item2 is not null))
        {
            rejected++;
            await Console.Error.WriteLineAsync($"line {line.Number}: not confirmed by the broker: {error}");
        }

        var accepted = results.Where(r => r.Item2 is null).Select(r => r.line).ToList();
        var perExchange = string.Join(", ", accepted.GroupBy(l => l.Exchange).Select(g => $"{g.Key}: {g.Count()}"));
        Console.WriteLine($"accepted {accepted.Count}{(accepted.Count > 0 ? $" ({perExchange})" : "")}, rejected {rejected}");
        return rejected == 0 ? 0 : 2;
    }

    static StreamReader OpenFile(FileInfo file)
    {
        if (!file.Exists)
        {
            throw new SettingsException($"option --file: {file.FullName} does not exist");
        }

        return file.OpenText();
    }
}
