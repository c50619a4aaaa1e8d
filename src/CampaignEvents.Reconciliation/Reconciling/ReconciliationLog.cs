using CampaignEvents.Contracts.Reconciliation;
using Microsoft.Extensions.Logging;

namespace CampaignEvents.Reconciliation.Reconciling;

/// <summary>One log line per reconciled campaign.</summary>
public static class ReconciliationLog
{
    public static void Write(ILogger logger, CampaignReconciled report) =>
        logger.LogInformation(
            "Campaign {CampaignId}: {Outcome}; {MissingLocally} missing locally, {ExtraLocally} extra locally, {Different} different, {Rejected} rejected at source, {InFlight} in flight; {SourceContacts} contacts at source, {LocalContacts} locally; {Elapsed} ms",
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
}
