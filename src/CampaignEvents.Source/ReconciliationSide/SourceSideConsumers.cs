using CampaignEvents.Contracts.Reconciliation;
using CampaignEvents.Infrastructure.Messaging;
using Microsoft.Extensions.Logging;

namespace CampaignEvents.Source.ReconciliationSide;

// The source side's reads for reconciliation: digests, keys and campaigns of the external database.

internal sealed partial class DigestSourceContactsConsumer(SourceContacts source, ILogger<DigestSourceContactsConsumer> logger)
    : SourceSideConsumer<DigestSourceContacts, SourceContactsDigested>, ISourceSideEndpoint
{
    public static string Queue => Topology.ReconciliationSourceDigestQueue;

    protected override Task<SourceContactsDigested> Answer(DigestSourceContacts request, CancellationToken cancel) => source.Digest(request, cancel);

    protected override SourceContactsDigested Failed(DigestSourceContacts request, string error) => new() { CampaignId = request.CampaignId, Error = error };

    protected override void LogFailure(Exception e, DigestSourceContacts request) => LogDigestFailed(e, request.CampaignId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Digest of campaign {CampaignId} at the source failed")]
    partial void LogDigestFailed(Exception e, Guid campaignId);
}

internal sealed partial class ListSourceKeysConsumer(SourceContacts source, ILogger<ListSourceKeysConsumer> logger)
    : SourceSideConsumer<ListSourceKeys, SourceKeysListed>, ISourceSideEndpoint
{
    public static string Queue => Topology.ReconciliationSourceKeysQueue;

    protected override Task<SourceKeysListed> Answer(ListSourceKeys request, CancellationToken cancel) => source.ListKeys(request, cancel);

    protected override SourceKeysListed Failed(ListSourceKeys request, string error) => new() { CampaignId = request.CampaignId, Error = error };

    protected override void LogFailure(Exception e, ListSourceKeys request) => LogKeysFailed(e, request.CampaignId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Key listing of campaign {CampaignId} at the source failed")]
    partial void LogKeysFailed(Exception e, Guid campaignId);
}

internal sealed partial class ListSourceCampaignsConsumer(SourceContacts source, ILogger<ListSourceCampaignsConsumer> logger)
    : SourceSideConsumer<ListSourceCampaigns, SourceCampaignsListed>, ISourceSideEndpoint
{
    public static string Queue => Topology.ReconciliationSourceCampaignsQueue;

    protected override async Task<SourceCampaignsListed> Answer(ListSourceCampaigns request, CancellationToken cancel) =>
        new() { CampaignIds = await source.CampaignIds(cancel) };

    protected override SourceCampaignsListed Failed(ListSourceCampaigns request, string error) => new() { Error = error };

    protected override void LogFailure(Exception e, ListSourceCampaigns request) => LogCampaignsFailed(e);

    [LoggerMessage(Level = LogLevel.Error, Message = "Listing the source's campaigns failed")]
    partial void LogCampaignsFailed(Exception e);
}
