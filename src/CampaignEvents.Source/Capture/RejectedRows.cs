using CampaignEvents.Source.Mapping;
using Microsoft.Extensions.Logging;

namespace CampaignEvents.Source.Capture;

/// <summary>
/// Reports the source rows the mapping rejected, on every capture path alike: one bad row must not
/// stop capture, so it is logged (with the logger of the path that read it) and counted, and the
/// rest is published (docs/adr/0004).
/// </summary>
internal sealed partial class RejectedRows(SourceMapping mapping, SourceMetrics metrics, ILogger logger)
{
    public void Report(FoldedChanges changes)
    {
        foreach (var row in changes.Rejected)
        {
            metrics.RejectedRows.Add(1, new KeyValuePair<string, object?>("table", "contacts"));
            LogRejected(mapping.Contacts.ToString(), row.RowId ?? "?", row.CampaignId, row.RejectedBecause ?? "");
        }

        foreach (var campaign in changes.RejectedCampaigns)
        {
            metrics.RejectedRows.Add(1, new KeyValuePair<string, object?>("table", "campaigns"));
            LogRejected(mapping.Campaigns.ToString(), campaign.Id.ToString(), campaign.Id, campaign.RejectedBecause ?? "");
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Source row rejected, not published: table {Table} row {RowId} campaign {CampaignId}: {Reason}")]
    partial void LogRejected(string table, string rowId, Guid campaignId, string reason);
}
