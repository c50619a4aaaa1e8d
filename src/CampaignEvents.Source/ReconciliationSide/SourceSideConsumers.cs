using System.Text.Json;
using CampaignEvents.Contracts;
using CampaignEvents.Contracts.Reconciliation;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.Source;
using CampaignEvents.Source.Configuration;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace CampaignEvents.Source.ReconciliationSide;

// The source side answers every request, failures included (Error set), so the requester gets one
// typed answer instead of a fault it would have to tell apart from a response.

public sealed class DigestSourceContactsConsumer(SourceContacts source, ILogger<DigestSourceContactsConsumer> logger) : IConsumer<DigestSourceContacts>
{
    public async Task Consume(ConsumeContext<DigestSourceContacts> context)
    {
        SourceContactsDigested answer;
        try
        {
            answer = await source.Digest(context.Message, context.CancellationToken);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            logger.LogError(e, "Digest of campaign {CampaignId} at the source failed", context.Message.CampaignId);
            answer = new SourceContactsDigested { CampaignId = context.Message.CampaignId, Error = SourceFailure.Describe(e) };
        }

        await context.Answer(answer);
    }
}

public sealed class ListSourceKeysConsumer(SourceContacts source, ILogger<ListSourceKeysConsumer> logger) : IConsumer<ListSourceKeys>
{
    public async Task Consume(ConsumeContext<ListSourceKeys> context)
    {
        SourceKeysListed answer;
        try
        {
            answer = await source.ListKeys(context.Message, context.CancellationToken);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            logger.LogError(e, "Key listing of campaign {CampaignId} at the source failed", context.Message.CampaignId);
            answer = new SourceKeysListed { CampaignId = context.Message.CampaignId, Error = SourceFailure.Describe(e) };
        }

        await context.Answer(answer);
    }
}

public sealed class ListSourceCampaignsConsumer(SourceContacts source, ILogger<ListSourceCampaignsConsumer> logger) : IConsumer<ListSourceCampaigns>
{
    public async Task Consume(ConsumeContext<ListSourceCampaigns> context)
    {
        SourceCampaignsListed answer;
        try
        {
            answer = new SourceCampaignsListed { CampaignIds = await source.CampaignIds(context.CancellationToken) };
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            logger.LogError(e, "Listing the source's campaigns failed");
            answer = new SourceCampaignsListed { Error = SourceFailure.Describe(e) };
        }

        await context.Answer(answer);
    }
}

/// <summary>
/// Re-publishes the current source state of drifted keys through the normal event path: one or
/// more <see cref="ContactChangeBatch"/> messages, changes for the keys the source holds and
/// deletes for the others, all at the version of the read in the capture mode's domain
/// (<see cref="ReadVersion"/>), so any change the read did not see carries a higher version and still wins.
/// </summary>
public sealed class RepairSourceContactsConsumer(SourceContacts source, IBus bus, IOptions<SourceOptions> options, TimeProvider time, ILogger<RepairSourceContactsConsumer> logger)
    : IConsumer<RepairSourceContacts>
{
    public async Task Consume(ConsumeContext<RepairSourceContacts> context)
    {
        var request = context.Message;
        SourceContactsRepaired answer;
        try
        {
            var (read, rows) = await source.ReadForRepair(request.CampaignId, request.Phones.Concat(request.RawPhones), context.CancellationToken);
            var version = read.Version;
            var now = time.GetUtcNow();
            var wanted = request.Phones.ToHashSet();
            var changes = rows
                .Where(r => wanted.Contains(r.PhoneNumber))
                .DistinctBy(r => r.PhoneNumber)
                .Select(r => new ContactChanged
                {
                    EventId = NewId.NextGuid(),
                    CampaignId = request.CampaignId,
                    PhoneNumber = r.PhoneNumber,
                    Version = version,
                    OccurredAt = now,
                    Metadata = JsonDocument.Parse(r.Metadata).RootElement.Clone(),
                })
                .ToList();
            var present = changes.Select(c => c.PhoneNumber).ToHashSet();
            var deletes = wanted
                .Where(p => !present.Contains(p))
                .Select(p => new ContactDeleted
                {
                    EventId = NewId.NextGuid(),
                    CampaignId = request.CampaignId,
                    PhoneNumber = p,
                    Version = version,
                    OccurredAt = now,
                })
                .ToList();

            var size = options.Value.BatchSize;
            foreach (var chunk in changes.Chunk(size))
            {
                await bus.PublishMandatory(new ContactChangeBatch { BatchId = NewId.NextGuid(), Changes = chunk }, context.CancellationToken);
            }

            foreach (var chunk in deletes.Chunk(size))
            {
                await bus.PublishMandatory(new ContactChangeBatch { BatchId = NewId.NextGuid(), Deletes = chunk }, context.CancellationToken);
            }

            logger.LogInformation(
                "Repair of campaign {CampaignId}: re-published {Changed} changes and {Deleted} deletes at version {Version}",
                request.CampaignId, changes.Count, deletes.Count, version);
            answer = new SourceContactsRepaired { CampaignId = request.CampaignId, Lsn = read.Lsn, Version = version, Changed = changes.Count, Deleted = deletes.Count };
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or JsonException or UnroutableMessageException)
        {
            logger.LogError(e, "Repair of campaign {CampaignId} at the source failed", request.CampaignId);
            answer = new SourceContactsRepaired { CampaignId = request.CampaignId, Error = SourceFailure.Describe(e) };
        }

        await context.Answer(answer);
    }
}

static class SourceFailure
{
    public static string Describe(Exception e) => e switch
    {
        PostgresException pg => $"the source database refused the query: {pg.MessageText} ({pg.SqlState})",
        NpgsqlException => $"the source database cannot be reached: {e.Message}",
        _ => e.Message,
    };
}

/// <summary>The source side's endpoints: one quorum queue per request type, only sent to (no exchange bindings by type).</summary>
public sealed class SourceSideConsumerDefinition<TConsumer> : ConsumerDefinition<TConsumer>
    where TConsumer : class, IConsumer
{
    public SourceSideConsumerDefinition()
    {
        EndpointName = typeof(TConsumer).Name switch
        {
            nameof(DigestSourceContactsConsumer) => Topology.ReconciliationSourceDigestQueue,
            nameof(ListSourceKeysConsumer) => Topology.ReconciliationSourceKeysQueue,
            nameof(RepairSourceContactsConsumer) => Topology.ReconciliationSourceRepairQueue,
            nameof(ListSourceCampaignsConsumer) => Topology.ReconciliationSourceCampaignsQueue,
            var other => throw new InvalidOperationException($"no source-side endpoint for {other}"),
        };
        ConcurrentMessageLimit = 2;
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<TConsumer> consumerConfigurator, IRegistrationContext context)
    {
        endpointConfigurator.ConfigureConsumeTopology = false;
        if (endpointConfigurator is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            rabbit.SetQuorumQueue();
        }
    }
}
