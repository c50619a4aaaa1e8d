using System.Diagnostics.Metrics;

namespace CampaignEvents.Reconciliation;

/// <summary>The reconcile role's counters, meter <c>CampaignEvents.Reconciliation</c>.</summary>
public sealed class ReconciliationMetrics : IDisposable
{
    public const string MeterName = "CampaignEvents.Reconciliation";

    public const string ScheduledFailuresName = "campaign_events.reconciliation.scheduled_failures";

    readonly Meter meter;
    readonly Counter<long> scheduledFailures;

    public ReconciliationMetrics(IMeterFactory meters)
    {
        meter = meters.Create(MeterName);
        scheduledFailures = meter.CreateCounter<long>(ScheduledFailuresName, "{failure}", "Scheduled reconciliations that failed (a server away, an error); each is tried again at the next interval");
    }

    public void ScheduledFailure() => scheduledFailures.Add(1);

    public void Dispose() => meter.Dispose();
}
