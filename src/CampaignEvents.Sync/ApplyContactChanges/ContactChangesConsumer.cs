using CampaignEvents.Sync.Configuration;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CampaignEvents.Sync.ApplyContactChanges;

/// <summary>
/// Applies a batch of validated contact messages: collapses them to the newest event per key and
/// writes them with one statement in one transaction (<see cref="ContactStore"/>).
/// </summary>
public sealed class ContactChangesConsumer(ContactStore store, SyncMetrics metrics, IOptions<SyncOptions> options, ILogger<ContactChangesConsumer> logger)
    : IConsumer<Batch<ContactWire>>
{
    public async Task Consume(ConsumeContext<Batch<ContactWire>> context)
    {
        var all = new List<ContactChange>();
        foreach (var item in context.Message)
        {
            // validated by ContactValidationFilter; read again only if the filter was not on the path
            var validated = item.Message.Validated ?? ContactEventReader.ReadBody(
                item.ReceiveContext.TryGetPayload<RabbitMqBasicConsumeContext>(out var d) ? d.Exchange : null,
                item.ReceiveContext.Body.GetBytes(),
                options.Value.MaxMetadataBytes);
            all.AddRange(validated.Changes);
        }

        var collapsed = LwwTable.Collapse(all);
        var result = await store.Apply(collapsed, context.CancellationToken);
        metrics.Applied(result);
        logger.LogDebug(
            "Applied {Messages} messages, {Events} events: {Upserted} upserted, {Deleted} deleted, {Tombstoned} tombstones",
            context.Message.Length, all.Count, result.Upserted, result.Deleted, result.Tombstoned);
    }
}
