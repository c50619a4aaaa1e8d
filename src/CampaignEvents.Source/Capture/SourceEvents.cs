using CampaignEvents.Contracts;
using CampaignEvents.Source.Mapping;

namespace CampaignEvents.Source.Capture;

/// <summary>
/// The events of mapped source rows, one way for every capture path (snapshot, stream, polling):
/// each event gets a new event id and the version and time its path gives it.
/// </summary>
internal static class SourceEvents
{
    public static CampaignChanged Campaign(MappedCampaign campaign, long version, DateTimeOffset at) => new()
    {
        EventId = Guid.NewGuid(),
        Id = campaign.Id,
        Name = campaign.Name,
        Type = campaign.Type,
        Status = campaign.Status,
        Config = campaign.Config,
        Version = version,
        OccurredAt = at,
    };

    /// <summary>The change of an accepted contact row (never of a rejected one: it has no phone).</summary>
    public static ContactChange Contact(MappedContact row, long version, DateTimeOffset at) => new ContactChange.Upsert(new ContactChanged
    {
        EventId = Guid.NewGuid(),
        CampaignId = row.CampaignId,
        PhoneNumber = row.PhoneNumber ?? throw new ArgumentException($"row {row.RowId} was rejected: {row.RejectedBecause}", nameof(row)),
        Metadata = row.Metadata,
        Version = version,
        OccurredAt = at,
    });

    public static ContactChange Deleted((Guid CampaignId, string PhoneNumber) key, long version, DateTimeOffset at) => new ContactChange.Delete(new ContactDeleted
    {
        EventId = Guid.NewGuid(),
        CampaignId = key.CampaignId,
        PhoneNumber = key.PhoneNumber,
        Version = version,
        OccurredAt = at,
    });
}
