using System.Threading.Channels;
using CampaignEvents.Source.Configuration;
using CampaignEvents.Source.Publishing;
using CampaignEvents.Source.SlotHealth;
using Npgsql.Replication;
using NpgsqlTypes;

namespace CampaignEvents.Source.Capture;

/// <summary>
/// Publishes the stream's folded transactions with a window of outstanding confirms
/// (<see cref="ChangePublisher"/>) and reports to the slot only the position below which the broker
/// confirmed everything (docs/adr/0004): a kill anywhere re-sends from there.
/// </summary>
internal sealed class ConfirmedPublishLoop(SourceOptions settings, IEventSink sink, SlotMonitor monitor, SourceMetrics metrics)
{
    public async Task Run(LogicalReplicationConnection replication, ChannelReader<FoldedChanges> input, CancellationToken cancel)
    {
        var publisher = new ChangePublisher(sink, settings.BatchSize, settings.MaxInFlight, settings.ConfirmTimeout, settings.MaxBatchBytes);
        ulong reported = 0;
        long published = 0;
        var bufferedSince = 0L;
        while (!cancel.IsCancellationRequested)
        {
            // a partly filled batch waits at most FlushDelay from its first change, busy or quiet
            if (publisher.Buffered > 0 && Environment.TickCount64 - bufferedSince >= (long)settings.FlushDelay.TotalMilliseconds)
            {
                await publisher.Flush(cancel);
            }

            if (input.TryRead(out var next))
            {
                var wasEmpty = publisher.Buffered == 0;
                await publisher.Add(next, cancel);
                if (wasEmpty && publisher.Buffered > 0)
                {
                    bufferedSince = Environment.TickCount64;
                }
            }
            else
            {
                var wait = publisher.Buffered > 0
                    ? TimeSpan.FromMilliseconds(Math.Max(1, (long)settings.FlushDelay.TotalMilliseconds - (Environment.TickCount64 - bufferedSince)))
                    : publisher.InFlight > 0 ? TimeSpan.FromMilliseconds(5) : TimeSpan.FromMilliseconds(200);
                using var pause = CancellationTokenSource.CreateLinkedTokenSource(cancel);
                pause.CancelAfter(wait);
                try
                {
                    await input.WaitToReadAsync(pause.Token);
                }
                catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
                {
                }
            }

            var confirmed = publisher.ConfirmedLsn;
            if (confirmed > reported)
            {
                replication.SetReplicationStatus(new NpgsqlLogSequenceNumber(confirmed));
                reported = confirmed;
                monitor.Lag.Confirmed(confirmed);
            }

            if (publisher.PublishedChanges > published)
            {
                metrics.PublishedChanges.Add(publisher.PublishedChanges - published);
                published = publisher.PublishedChanges;
            }
        }

        cancel.ThrowIfCancellationRequested();
    }
}
