using System.Diagnostics.Metrics;

namespace CampaignEvents.Source;

/// <summary>The adapter's counters, meter <c>CampaignEvents.Source</c>.</summary>
internal sealed class SourceMetrics : IDisposable
{
    public const string MeterName = "CampaignEvents.Source";

    readonly Meter meter;

    public SourceMetrics(IMeterFactory meters)
    {
        meter = meters.Create(MeterName);
        RejectedRows = meter.CreateCounter<long>("campaign_events.source.rejected_rows", "{row}", "Source rows not published because they do not map to a contact or campaign the consumers accept (a phone that cannot be normalized, metadata too large or too deep, a config too deep); tag table");
        PublishedChanges = meter.CreateCounter<long>("campaign_events.source.published_changes", "{change}", "Contact changes and deletes published");
        SnapshotRows = meter.CreateCounter<long>("campaign_events.source.snapshot_rows", "{row}", "Rows read by initial snapshots");
    }

    public Counter<long> RejectedRows { get; }

    public Counter<long> PublishedChanges { get; }

    public Counter<long> SnapshotRows { get; }

    /// <summary>
    /// The slot's lag gauges (tag <c>slot</c>), read from the adapter's last reading of the slot:
    /// a scrape never queries the source.
    /// </summary>
    public void ObserveSlotLag(Func<IEnumerable<Measurement<long>>> bytes, Func<IEnumerable<Measurement<double>>> seconds)
    {
        meter.CreateObservableGauge("campaign_events.source.slot_lag_bytes", bytes, "By", "WAL the replication slot holds back: the source's current WAL position minus the slot's confirmed position");
        meter.CreateObservableGauge("campaign_events.source.slot_lag_seconds", seconds, "s", "How long ago the oldest change read from the slot but not yet confirmed by the broker committed (0 when none waits)");
    }

    public void Dispose() => meter.Dispose();
}
