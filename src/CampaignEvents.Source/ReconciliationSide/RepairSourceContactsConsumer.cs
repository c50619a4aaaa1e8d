using System.Text.Json;
using CampaignEvents.Contracts;
using CampaignEvents.Contracts.Reconciliation;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.Source.Configuration;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CampaignEvents.Source.ReconciliationSide;

/// <summary>
/// Re-publishes the current source state of drifted keys through the normal event path: one or
/// more <see cref="ContactChangeBatch"/> messages, changes for the keys the source holds and
/// deletes for the others, all at the version of the read in the capture mode's domain
/// (<see cref="ReadVersion"/>), so any change the read did not see carries a higher version and still wins.
/// </summary>
internal sealed partial class RepairSourceContactsConsumer(SourceContacts source, IBus bus, IOptions<SourceOptions> options, TimeProvider time, ILogger<RepairSourceContactsConsumer> logger)
    : SourceSideConsumer<RepairSourceContacts, SourceContactsRepaired>, ISourceSideEndpoint
{
    public static string Queue => Topology.ReconciliationSourceRepairQueue;

    protected override async Task<SourceContactsRepaired> Answer(RepairSourceContacts request, CancellationToken cancel)
    {
        var (read, rows) = await source.ReadForRepair(request.CampaignId, request.Phones.Concat(request.RawPhones), cancel);
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
            await bus.PublishMandatory(new ContactChangeBatch { BatchId = NewId.NextGuid(), Changes = chunk }, cancel);
        }

        foreach (var chunk in deletes.Chunk(size))
        {
            await bus.PublishMandatory(new ContactChangeBatch { BatchId = NewId.NextGuid(), Deletes = chunk }, cancel);
        }

        LogRepublished(request.CampaignId, changes.Count, deletes.Count, version);
        return new SourceContactsRepaired { CampaignId = request.CampaignId, Lsn = read.Lsn, Version = version, Changed = changes.Count, Deleted = deletes.Count };
    }

    protected override SourceContactsRepaired Failed(RepairSourceContacts request, string error) => new() { CampaignId = request.CampaignId, Error = error };

    protected override void LogFailure(Exception e, RepairSourceContacts request) =>
        LogRepairFailed(e, request.CampaignId);

    // a repair also fails when a row's metadata does not parse or no queue takes its publish
    protected override bool IsSourceFailure(Exception e) => base.IsSourceFailure(e) || e is JsonException or UnroutableMessageException;

    [LoggerMessage(Level = LogLevel.Information, Message = "Repair of campaign {CampaignId}: re-published {Changed} changes and {Deleted} deletes at version {Version}")]
    partial void LogRepublished(Guid campaignId, int changed, int deleted, long version);

    [LoggerMessage(Level = LogLevel.Error, Message = "Repair of campaign {CampaignId} at the source failed")]
    partial void LogRepairFailed(Exception e, Guid campaignId);
}
