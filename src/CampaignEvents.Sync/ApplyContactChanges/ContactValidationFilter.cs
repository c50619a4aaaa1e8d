using System.Globalization;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.Sync.Configuration;
using CampaignEvents.Sync.LocalDatabase;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CampaignEvents.Sync.ApplyContactChanges;

/// <summary>
/// Runs for each message on its own, before the message joins a batch: invalid messages fail here
/// and go to the error queue alone; a message whose campaign is not there yet leaves the consumer
/// at once for a wait queue of the broker, whose TTL brings it back later (docs/adr/0002). Neither
/// holds back its batch neighbours, nor a prefetch slot while it waits.
/// </summary>
internal sealed partial class ContactValidationFilter(CampaignDirectory campaigns, DatabaseBreaker breaker, BytesInFlight budget, SyncMetrics metrics, IOptions<SyncOptions> options, ILogger<ContactValidationFilter> logger)
    : IFilter<ConsumeContext<ContactWire>>
{
    public async Task Send(ConsumeContext<ContactWire> context, IPipe<ConsumeContext<ContactWire>> next)
    {
        // held until the message's batch is applied (or it left for a wait queue or the error queue)
        using var lease = await budget.Take(context.ReceiveContext.Body.Length ?? 0, context.CancellationToken);
        var message = context.Message;
        message.Body = context.ReceiveContext.Body.GetBytes();
        ContactEvent validated;
        try
        {
            validated = ContactEventReader.ReadBody(ContactRedirect.OriginalExchange(context.ReceiveContext), message.Body, options.Value.MaxMetadataBytes);
        }
        catch (InvalidContactEventException)
        {
            metrics.Rejected("invalid");
            throw;
        }

        var missing = await MissingCampaigns(validated, context.CancellationToken);
        if (missing.Count > 0)
        {
            // The whole message, as received, waits; the changes of campaigns that are there are
            // applied now rather than held back with it. When the message comes back they are
            // applied again, which their versions make a no-op (docs/adr/0001, 0011).
            var absent = missing.ToHashSet();
            var present = validated.Changes.Where(c => !absent.Contains(c.CampaignId)).ToList();
            await Wait(context, missing, handled: present.Count == 0);
            if (present.Count == 0)
            {
                return;
            }

            validated = validated with { Changes = present };
        }

        message.Validated = validated;
        await next.Send(context);
    }

    /// <summary>
    /// Parks the message in the wait queue of its next back-off step, or, once every step is
    /// spent, fails it to the error queue with the reason. The message is acknowledged only after
    /// the broker confirmed its copy in the wait queue.
    /// </summary>
    /// <param name="handled">Nothing of the message is applied now: it is acknowledged here rather than by the batch.</param>
    async Task Wait(ConsumeContext<ContactWire> context, IReadOnlyList<Guid> missing, bool handled)
    {
        var settings = options.Value;
        var waits = settings.CampaignWaits;
        var attempt = context.ReceiveContext.TransportHeaders.TryGetHeader(ContactRedirect.WaitAttemptHeader, out var value)
            && int.TryParse(Convert.ToString(value is byte[] bytes ? System.Text.Encoding.UTF8.GetString(bytes) : value, CultureInfo.InvariantCulture), out var counted)
                ? counted
                : 0;
        var since = context.ReceiveContext.TransportHeaders.Get<string>(ContactRedirect.WaitingSinceHeader) is { } text
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)
                ? parsed
                : DateTimeOffset.UtcNow;
        if (attempt >= waits.Count)
        {
            metrics.Rejected("unknown_campaign");
            throw new UnknownCampaignException(
                $"unknown campaign {string.Join(", ", missing)}: not in the local database after waiting {DateTimeOffset.UtcNow - since:hh\\:mm\\:ss} ({waits.Count} steps of Sync:CampaignWaitIntervals); publish its CampaignChanged, then replay this message (campaign-events errors replay)");
        }

        var queue = Topology.WaitQueue(waits[attempt]);
        await ContactRedirect.ToWaitQueue(context, queue, attempt + 1, since);
        metrics.Waiting();
        LogWaiting(missing, queue, attempt + 1, waits.Count);

        if (handled)
        {
            // it lives on in the wait queue: acknowledged, not moved to _skipped
            await context.NotifyConsumed(context, TimeSpan.Zero, nameof(ContactValidationFilter));
        }
    }

    Task<IReadOnlyList<Guid>> MissingCampaigns(ContactEvent validated, CancellationToken cancel)
    {
        var ids = validated.Changes.Select(c => c.CampaignId).Distinct().ToArray();
        return breaker.Run(c => campaigns.Missing(ids, c), cancel);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("contact-validation");

    [LoggerMessage(Level = LogLevel.Information, Message = "Campaign {CampaignIds} not there yet; the message waits in {Queue} (step {Step} of {Steps})")]
    partial void LogWaiting(IReadOnlyList<Guid> campaignIds, string queue, int step, int steps);
}
