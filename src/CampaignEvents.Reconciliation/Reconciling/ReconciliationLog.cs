using CampaignEvents.Contracts.Reconciliation;
using Microsoft.Extensions.Logging;

namespace CampaignEvents.Reconciliation.Reconciling;

/// <summary>One log line per reconciled campaign.</summary>
internal static partial class ReconciliationLog
{
    public static void Write(ILogger logger, CampaignReconciled report) =>
        LogReconciled(
            logger,
            report.CampaignId,
            report.Outcome,
            report.Drift.Count(d => d.Kind == DriftKinds.MissingLocally),
            report.Drift.Count(d => d.Kind == DriftKinds.ExtraLocally),
            report.Drift.Count(d => d.Kind == DriftKinds.Different),
            report.RejectedAtSource.Count,
            report.SettledInFlight,
            report.SourceContacts,
            report.LocalContacts,
            (long)(report.FinishedAt - report.StartedAt).TotalMilliseconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Campaign {CampaignId}: {Outcome}; {MissingLocally} missing locally, {ExtraLocally} extra locally, {Different} different, {Rejected} rejected at source, {InFlight} in flight; {SourceContacts} contacts at source, {LocalContacts} locally; {Elapsed} ms")]
    static partial void LogReconciled(
        ILogger logger, Guid campaignId, string outcome, int missingLocally, int extraLocally, int different, int rejected, int inFlight, long sourceContacts, long localContacts, long elapsed);
}
