using CampaignEvents.Sync.Configuration;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CampaignEvents.Sync.ApplyContactChanges;

/// <summary>
/// Runs for each message on its own, before the message joins a batch: invalid messages fail here
/// and go to the error queue alone, and a message whose campaign is not there yet waits here, so
/// neither holds back its batch neighbours (docs/adr/0002).
/// </summary>
public sealed class ContactValidationFilter(CampaignDirectory campaigns, SyncMetrics metrics, IOptions<SyncOptions> options, ILogger<ContactValidationFilter> logger)
    : IFilter<ConsumeContext<ContactWire>>
{
    public async Task Send(ConsumeContext<ContactWire> context, IPipe<ConsumeContext<ContactWire>> next)
    {
        var message = context.Message;
        var exchange = context.ReceiveContext.TryGetPayload<RabbitMqBasicConsumeContext>(out var delivery) ? delivery.Exchange : null;
        message.Body = context.ReceiveContext.Body.GetBytes();
        ContactEvent validated;
        try
        {
            validated = ContactEventReader.ReadBody(exchange, message.Body, options.Value.MaxMetadataBytes);
        }
        catch (InvalidContactEventException)
        {
            metrics.Rejected("invalid");
            throw;
        }

        await WaitForCampaigns(validated, context.CancellationToken);
        message.Validated = validated;
        await next.Send(context);
    }

    async Task WaitForCampaigns(ContactEvent validated, CancellationToken cancel)
    {
        var settings = options.Value;
        var ids = validated.Changes.Select(c => c.CampaignId).Distinct().ToArray();
        var attempt = 0;
        var transientFailures = 0;
        var pause = settings.TransientRetryMinInterval;
        while (true)
        {
            IReadOnlyList<Guid> missing;
            try
            {
                missing = await campaigns.Missing(ids, cancel);
            }
            catch (Exception e) when (TransientFailures.IsTransient(e) && transientFailures < settings.TransientRetryLimit)
            {
                transientFailures++;
                logger.LogWarning("Cannot look up campaigns ({Reason}); retry {Attempt} in {Pause}", e.Message, transientFailures, pause);
                await Task.Delay(pause, cancel);
                pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, settings.TransientRetryMaxInterval.Ticks));
                continue;
            }

            if (missing.Count == 0)
            {
                return;
            }

            if (attempt >= settings.UnknownCampaignRetries.Count)
            {
                metrics.Rejected("unknown_campaign");
                throw new UnknownCampaignException(
                    $"unknown campaign {string.Join(", ", missing)}: not in the local database after {attempt + 1} attempts over {settings.UnknownCampaignRetries.Aggregate(TimeSpan.Zero, (a, b) => a + b).TotalSeconds:0} s; publish its CampaignChanged, then replay this message (campaign-events errors replay)");
            }

            logger.LogInformation("Campaign {CampaignIds} not there yet; looking again in {Pause}", missing, settings.UnknownCampaignRetries[attempt]);
            await Task.Delay(settings.UnknownCampaignRetries[attempt], cancel);
            attempt++;
        }
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("contact-validation");
}
