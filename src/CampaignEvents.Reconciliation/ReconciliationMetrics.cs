using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using CampaignEvents.Contracts.Reconciliation;

namespace CampaignEvents.Reconciliation;

/// <summary>The reconcile role's counters, meter <c>CampaignEvents.Reconciliation</c>.</summary>
internal sealed class ReconciliationMetrics : IDisposable
{
    public const string MeterName = "CampaignEvents.Reconciliation";

    public const string ScheduledFailuresName = "campaign_events.reconciliation.scheduled_failures";

    readonly Meter meter;
    public const string RunsName = "campaign_events.reconciliation.runs";

    public const string DriftKeysName = "campaign_events.reconciliation.drift_keys";

    long scheduledFailures;
    readonly Counter<long> runs;

    // the drift of each campaign's last run in this process; a later consistent or repaired run clears it
    readonly ConcurrentDictionary<Guid, int> drift = new();

    public ReconciliationMetrics(IMeterFactory meters)
    {
        meter = meters.Create(MeterName);
        // observed, so it is exported as 0 from the start: increase() and the dashboard see the series before the first failure
        meter.CreateObservableCounter(ScheduledFailuresName, () => Interlocked.Read(ref scheduledFailures), "{failure}", "Scheduled reconciliations that failed (a server away, an error); each is tried again at the next interval");
        runs = meter.CreateCounter<long>(RunsName, "{run}", "Reconciliations finished, by outcome (consistent, drift, repaired)");
        meter.CreateObservableGauge(
            DriftKeysName,
            () => drift.Values.Sum(),
            "{key}",
            "Keys that differ (missing locally, extra locally, different) in the last reconciliation of each campaign this process reconciled; 0 once a later run found the campaign consistent or repaired it");
    }

    /// <summary>A reconciliation finished and was stored.</summary>
    public void Reconciled(CampaignReconciled report)
    {
        runs.Add(1, new KeyValuePair<string, object?>("outcome", report.Outcome));
        if (report.Drift.Count > 0)
        {
            drift[report.CampaignId] = report.Drift.Count;
        }
        else
        {
            drift.TryRemove(report.CampaignId, out _);
        }
    }

    public void ScheduledFailure() => Interlocked.Increment(ref scheduledFailures);

    public void Dispose() => meter.Dispose();
}
