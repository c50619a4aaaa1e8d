using System.Diagnostics.Metrics;
using CampaignEvents.Sync.ApplyContactChanges;

namespace CampaignEvents.Sync;

/// <summary>The sync role's counters, meter <c>CampaignEvents.Sync</c>; counted after the batch's commit.</summary>
public sealed class SyncMetrics : IDisposable
{
    public const string MeterName = "CampaignEvents.Sync";

    public const string AppliedRowsName = "campaign_events.sync.applied_rows";

    public const string EndToEndLatencyName = "campaign_events.sync.end_to_end_latency";

    /// <summary>
    /// From 5 ms (a streamed change on an idle pipeline) to 30 minutes (a contact that waited the
    /// whole of Sync:CampaignWaitIntervals for its campaign).
    /// </summary>
    static readonly double[] LatencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

    readonly Meter meter;
    readonly Counter<long> appliedRows;
    readonly Histogram<int> batchChanges;
    readonly Histogram<double> endToEndLatency;
    readonly Counter<long> rejectedMessages;
    readonly Counter<long> waitingMessages;
    int breakerOpen;

    public SyncMetrics(IMeterFactory meters)
    {
        meter = meters.Create(MeterName);
        appliedRows = meter.CreateCounter<long>(AppliedRowsName, "{row}", "Rows written by committed batches, by outcome (upserted, deleted, tombstoned)");
        batchChanges = meter.CreateHistogram<int>("campaign_events.sync.batch_changes", "{change}", "Changes in a batch after collapsing to the newest per key");
        endToEndLatency = meter.CreateHistogram(
            EndToEndLatencyName,
            "s",
            "From an event's occurredAt (the source commit for the adapter's events, the publisher's clock for upstream events) to the commit of the batch that applied it locally; stale events count too",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        rejectedMessages = meter.CreateCounter<long>("campaign_events.sync.rejected_messages", "{message}", "Messages sent to the error queue, by reason (invalid, unknown_campaign, refused_by_database); the full reason is in the message's MT-Fault-Message header");
        waitingMessages = meter.CreateCounter<long>("campaign_events.sync.waiting_messages", "{message}", "Messages parked in a wait queue (contact-changes-wait-*) because their campaign was not in the local database yet; each step counts");
        meter.CreateObservableGauge("campaign_events.sync.breaker_open", () => Volatile.Read(ref breakerOpen), "{state}", "1 while the circuit breaker on the local database is open: the database is away past Sync:TransientRetryLimit, messages are held unacknowledged");
    }

    /// <summary>The circuit breaker on the local database opened (the database is away past the retry budget).</summary>
    public void BreakerOpened() => Interlocked.Exchange(ref breakerOpen, 1);

    public void BreakerClosed() => Interlocked.Exchange(ref breakerOpen, 0);

    /// <summary>A message parked in a wait queue because its campaign is not in the local database yet.</summary>
    public void Waiting() => waitingMessages.Add(1);

    /// <summary>A message given up on: <c>invalid</c> (never applicable as it is) or <c>unknown_campaign</c> (every wait step spent), <c>refused_by_database</c> (PostgreSQL refused it alone).</summary>
    public void Rejected(string reason) => rejectedMessages.Add(1, new KeyValuePair<string, object?>("reason", reason));

    /// <summary>A batch committed: its rows, and the end-to-end latency of each of its events (<paramref name="events"/>, before collapsing).</summary>
    public void Applied(ApplyResult result, IEnumerable<ContactChange> events)
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var change in events)
        {
            if (change.OccurredAt != default)
            {
                // a publisher's clock ahead of ours is not a negative latency
                endToEndLatency.Record(Math.Max(0, (now - change.OccurredAt).TotalSeconds));
            }
        }

        appliedRows.Add(result.Upserted, new KeyValuePair<string, object?>("outcome", "upserted"));
        appliedRows.Add(result.Deleted, new KeyValuePair<string, object?>("outcome", "deleted"));
        appliedRows.Add(result.Tombstoned, new KeyValuePair<string, object?>("outcome", "tombstoned"));
        batchChanges.Record(result.Received);
    }

    public void Dispose() => meter.Dispose();
}
