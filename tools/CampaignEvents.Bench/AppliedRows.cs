using System.Diagnostics.Metrics;
using CampaignEvents.Sync;

namespace CampaignEvents.Bench;

/// <summary>
/// The benchmarks' clock stop: counts the rows a sync host in this process upserted in committed
/// batches (<see cref="SyncMetrics"/>), so no query polls a growing table while it is measured.
/// The caller checks the table itself once at the end.
/// </summary>
sealed class AppliedRows : IDisposable
{
    readonly MeterListener listener = new();
    readonly TaskCompletionSource all = new(TaskCreationOptions.RunContinuationsAsynchronously);
    readonly long expected;
    long upserted;

    public AppliedRows(IMeterFactory hostMeters, long expected)
    {
        this.expected = expected;
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Scope == hostMeters && instrument.Name == SyncMetrics.AppliedRowsName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag is { Key: "outcome", Value: "upserted" } && Interlocked.Add(ref upserted, value) >= this.expected)
                {
                    all.TrySetResult();
                }
            }
        });
        listener.Start();
    }

    public long Upserted => Interlocked.Read(ref upserted);

    /// <summary>Waits until every expected row was applied; fails when none was applied for <paramref name="stall"/>.</summary>
    public async Task All(TimeSpan stall, CancellationToken cancel)
    {
        var seen = Upserted;
        var since = DateTime.UtcNow;
        while (!all.Task.IsCompleted)
        {
            await Task.WhenAny(all.Task, Task.Delay(TimeSpan.FromMilliseconds(500), cancel));
            cancel.ThrowIfCancellationRequested();
            if (Upserted != seen)
            {
                seen = Upserted;
                since = DateTime.UtcNow;
            }
            else if (DateTime.UtcNow - since > stall)
            {
                throw new InvalidOperationException($"no row applied for {stall.TotalSeconds:0} s: {seen:N0} of {expected:N0} rows; is the sync consumer running (see its log)?");
            }
        }
    }

    public void Dispose() => listener.Dispose();
}
