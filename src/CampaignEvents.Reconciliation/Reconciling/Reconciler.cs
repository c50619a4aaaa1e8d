using CampaignEvents.Contracts.Reconciliation;
using MassTransit;
using Microsoft.Extensions.Options;

namespace CampaignEvents.Reconciliation.Reconciling;

/// <summary>
/// Reconciles one campaign (docs/adr/0006, 0007): finds the keys whose digests differ
/// (<see cref="BucketDrillDown"/>), watches them until they settle, because changes in flight are
/// not drift (<see cref="InFlightSettle"/>), optionally has the source side repair the drift and
/// checks again (<see cref="RepairConvergence"/>), and stores the report.
/// </summary>
internal sealed class Reconciler(
    BucketDrillDown drillDown,
    InFlightSettle settle,
    RepairConvergence convergence,
    ReconciliationRuns runs,
    ReconciliationMetrics metrics,
    IOptions<ReconciliationOptions> options,
    TimeProvider time)
{
    public async Task<CampaignReconciled> Reconcile(Guid campaignId, bool repair, TimeSpan? sourceTimeout, CancellationToken cancel)
    {
        var startedAt = time.GetUtcNow();
        var timeout = sourceTimeout ?? options.Value.SourceTimeout;
        var first = await Compare(campaignId, timeout, cancel);
        var report = first.ToReport(campaignId, startedAt) with { RepairRequested = repair };

        if (repair && first.Drift.Count > 0)
        {
            var repaired = await convergence.Repair(campaignId, first, timeout, cancel);
            var after = await Compare(campaignId, timeout, cancel);
            report = after.ToReport(campaignId, startedAt) with
            {
                RepairRequested = true,
                Repaired = first.Drift,
                Converged = repaired && after.Drift.Count == 0,
                Outcome = after.Drift.Count == 0 ? ReconciliationOutcomes.Repaired : ReconciliationOutcomes.Drift,
                BucketsDiffering = first.BucketsDiffering,
                SettledInFlight = first.SettledInFlight + after.SettledInFlight,
            };
        }

        report = report with { RunId = NewId.NextGuid(), FinishedAt = time.GetUtcNow() };
        await runs.Store(report, cancel);
        metrics.Reconciled(report);
        return report;
    }

    async Task<Comparison> Compare(Guid campaignId, TimeSpan timeout, CancellationToken cancel)
    {
        var (comparison, candidates) = await drillDown.Differing(campaignId, timeout, cancel);
        if (candidates.Count > 0)
        {
            await settle.Settle(campaignId, candidates, comparison, timeout, cancel);
        }

        return comparison;
    }
}
