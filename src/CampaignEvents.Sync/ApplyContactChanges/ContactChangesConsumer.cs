using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.Sync.Configuration;
using CampaignEvents.Sync.LocalDatabase;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace CampaignEvents.Sync.ApplyContactChanges;

/// <summary>
/// Applies a batch of validated contact messages: collapses them to the newest event per key and
/// writes them with one statement in one transaction (<see cref="ContactStore"/>). A batch the
/// database refuses for a reason that does not pass by itself is applied again in halves, down to
/// single messages: the good ones are applied, each refused one goes to the error queue alone with
/// PostgreSQL's reason (docs/adr/0002, "One bad message, one error").
/// </summary>
internal sealed partial class ContactChangesConsumer(ContactStore store, DatabaseBreaker breaker, SyncMetrics metrics, IOptions<SyncOptions> options, ILogger<ContactChangesConsumer> logger)
    : IConsumer<Batch<ContactWire>>
{
    public async Task Consume(ConsumeContext<Batch<ContactWire>> context)
    {
        // a retry after a transient failure in the middle of a bisect leaves out the messages already
        // sent to the error queue (one copy there, not one per attempt); a first attempt has none
        var retried = context.GetRetryAttempt() > 0;
        var all = new List<ContactChange>();
        foreach (var item in context.Message)
        {
            if (retried && IsRefused(item))
            {
                continue;
            }

            all.AddRange(Validated(item).Changes);
        }

        var collapsed = LwwTable.Collapse(all);
        ApplyResult result;
        try
        {
            result = await breaker.Run(cancel => store.Apply(collapsed, cancel), context.CancellationToken);
        }
        catch (Exception e) when (IsRefusal(e, context.CancellationToken))
        {
            var parts = context.Message.Where(item => !IsRefused(item)).ToArray();
            LogBisecting(parts.Length, e.Message);
            await ApplyInParts(parts, e, context.CancellationToken);
            return;
        }

        metrics.Applied(result, all);
        LogApplied(context.Message.Length, all.Count, result.Upserted, result.Deleted, result.Tombstoned);
    }

    /// <summary>
    /// Applies <paramref name="part"/> (each part collapses its own messages only), or, when it
    /// failed already (<paramref name="failure"/>) or fails now, its two halves; a single message
    /// that fails goes to the error queue. A transient failure throws: the whole batch is retried,
    /// and what was applied already is applied again without effect (last writer wins, docs/adr/0001).
    /// </summary>
    async Task ApplyInParts(ArraySegment<ConsumeContext<ContactWire>> part, Exception? failure, CancellationToken cancel)
    {
        if (failure is null)
        {
            try
            {
                var events = part.SelectMany(item => Validated(item).Changes).ToList();
                metrics.Applied(await breaker.Run(c => store.Apply(LwwTable.Collapse(events), c), cancel), events);
                return;
            }
            catch (Exception e) when (IsRefusal(e, cancel))
            {
                failure = e;
            }
        }

        if (part.Count == 1)
        {
            await Refuse(part[0], failure);
            return;
        }

        var half = part.Count / 2;
        await ApplyInParts(part[..half], null, cancel);
        await ApplyInParts(part[half..], null, cancel);
    }

    async Task Refuse(ConsumeContext<ContactWire> item, Exception failure)
    {
        var reason = failure is PostgresException pg
            ? new ContactRefusedException($"the database refused this message: {pg.MessageText} ({pg.SqlState})", failure)
            : new ContactRefusedException($"this message could not be applied: {failure.Message}", failure);
        await ContactRedirect.ToErrorQueue(item, reason);
        item.GetOrAddPayload(() => RefusedByDatabase.Instance);
        metrics.Rejected("refused_by_database");
        LogRefused(item.MessageId, Topology.ErrorQueue(Topology.ContactChangesQueue), reason.Message);
    }

    /// <summary>A failure that trying again cannot cure, as opposed to a transient one (retried whole) or a stop.</summary>
    static bool IsRefusal(Exception e, CancellationToken cancel) =>
        TransientFailures.IsCausedByMessage(e) && !cancel.IsCancellationRequested;

    static bool IsRefused(ConsumeContext<ContactWire> item) => item.TryGetPayload<RefusedByDatabase>(out _);

    // validated by ContactValidationFilter; read again only if the filter was not on the path
    ContactEvent Validated(ConsumeContext<ContactWire> item) =>
        item.Message.Validated ?? ContactEventReader.ReadBody(
            ContactRedirect.OriginalExchange(item.ReceiveContext),
            item.ReceiveContext.Body.GetBytes(),
            options.Value.MaxMetadataBytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "A batch of {Messages} messages was refused by the database ({Reason}); applying it in parts to find the bad message")]
    partial void LogBisecting(int messages, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message {MessageId} moved to {Queue}: {Reason}")]
    partial void LogRefused(Guid? messageId, string queue, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Applied {Messages} messages, {Events} events: {Upserted} upserted, {Deleted} deleted, {Tombstoned} tombstones")]
    partial void LogApplied(int messages, int events, int upserted, int deleted, int tombstoned);

    /// <summary>Marks a message of the batch that is in the error queue already.</summary>
    sealed class RefusedByDatabase
    {
        public static readonly RefusedByDatabase Instance = new();
    }
}
