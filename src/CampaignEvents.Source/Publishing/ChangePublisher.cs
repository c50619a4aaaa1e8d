using System.Runtime.InteropServices;
using System.Text.Json;
using CampaignEvents.Contracts;
using CampaignEvents.Source.Capture;

namespace CampaignEvents.Source.Publishing;

/// <summary>Where the adapter's events go: the bus in production (awaited publish = broker confirmed).</summary>
internal interface IEventSink
{
    Task Publish(CampaignChanged campaign, CancellationToken cancel);

    Task Publish(ContactChangeBatch batch, CancellationToken cancel);
}

/// <summary>
/// Batches folded changes into <see cref="ContactChangeBatch"/> messages and publishes them with a
/// window of outstanding confirms (never one awaited publish at a time). <see cref="ConfirmedLsn"/>
/// is the WAL position below which every change was confirmed by the broker: the only position
/// the replication slot may advance to (docs/adr/0004). A publish the broker has not confirmed
/// within <c>confirmTimeout</c> fails the publisher (the capture session restarts from the slot and
/// sends again): a confirm lost with a dropped connection must never stall the stream for good.
/// A batch is cut at <c>batchSize</c> changes or at <c>maxBatchBytes</c> of estimated JSON,
/// whichever comes first, so one message stays far below the broker's maximum message size.
/// </summary>
/// <remarks>
/// The invariant: each publish is tracked at a position below which every change is in this or an
/// earlier publish (a campaign at <c>handedOver</c>; a batch, which takes every change still
/// waiting, at the end of the last transaction added). Confirms are taken in publish order, so the
/// confirmed position never passes a change that no confirmed publish carries. Issue 12: a campaign
/// tracked at the end of earlier transactions whose contacts still waited in the batch let the slot
/// pass those contacts, and a crash lost them.
/// </remarks>
internal sealed class ChangePublisher(IEventSink sink, int batchSize, int maxInFlight, TimeSpan confirmTimeout, long maxBatchBytes = ChangePublisher.DefaultMaxBatchBytes)
{
    /// <summary>The default of Source:MaxBatchBytes: 64 KiB, under the large-object threshold (docs/adr/0020).</summary>
    public const long DefaultMaxBatchBytes = 64 * 1024;

    /// <summary>
    /// Estimated JSON of one change besides its phone and metadata: event id, campaign id, version,
    /// occurredAt, property names, quotes and commas (about 190 bytes as System.Text.Json writes them).
    /// </summary>
    public const int ChangeOverheadBytes = 256;

    readonly Queue<(Task Publish, ulong Lsn, long Since)> inFlight = new();
    readonly Dictionary<(Guid CampaignId, string PhoneNumber), ContactChange> batch = [];
    long batchBytes;

    /// <summary>Every change at or below this position is in a publish already (none waits in the batch).</summary>
    ulong handedOver;

    /// <summary>The end of the last transaction added (its changes may still wait in the batch).</summary>
    ulong completed;
    ulong confirmed;

    /// <summary>Changes waiting in the batch being filled.</summary>
    public int Buffered => batch.Count;

    public int InFlight => inFlight.Count;

    public long PublishedMessages { get; private set; }

    public long PublishedChanges { get; private set; }

    /// <summary>Estimated bytes of the batch being filled.</summary>
    public long BufferedBytes => batchBytes;

    /// <summary>Adds a transaction's events; full batches go out at once, the rest waits for more or <see cref="Flush"/>.</summary>
    public async Task Add(FoldedChanges changes, CancellationToken cancel)
    {
        // campaigns before their contacts, so the consumer rarely waits for a campaign; tracked at
        // handedOver, not at completed: contacts of earlier transactions may still wait in the batch
        foreach (var campaign in changes.Campaigns)
        {
            await Track(sink.Publish(campaign, cancel), handedOver, cancel);
        }

        foreach (var change in changes.Contacts)
        {
            await Put(change, cancel);
        }

        completed = Math.Max(completed, changes.EndLsn);
        if (batch.Count == 0)
        {
            handedOver = completed;
        }
    }

    async Task Put(ContactChange change, CancellationToken cancel)
    {
        var bytes = change.EstimatedBytes;
        if (batch.Count > 0 && batchBytes + bytes > maxBatchBytes)
        {
            await Flush(cancel);
        }

        // one key once per batch, the newest: a set-based apply cannot touch a row twice in one statement
        if (batch.TryGetValue(change.Key, out var existing))
        {
            if (existing.Version >= change.Version)
            {
                return;
            }

            batchBytes -= existing.EstimatedBytes;
        }

        batch[change.Key] = change;
        batchBytes += bytes;
        if (batch.Count >= batchSize || batchBytes >= maxBatchBytes)
        {
            await Flush(cancel);
        }
    }

    /// <summary>The estimated size of a change in a batch's JSON: phone, metadata, and the fixed fields.</summary>
    public static int EstimatedBytes(ContactChanged change) =>
        ChangeOverheadBytes + change.PhoneNumber.Length
        + (change.Metadata.ValueKind == JsonValueKind.Undefined ? 4 : JsonMarshal.GetRawUtf8Value(change.Metadata).Length);

    /// <inheritdoc cref="EstimatedBytes(ContactChanged)"/>
    public static int EstimatedBytes(ContactDeleted delete) => ChangeOverheadBytes + delete.PhoneNumber.Length;

    /// <summary>Publishes the partly filled batch (the stream went quiet).</summary>
    public async Task Flush(CancellationToken cancel)
    {
        if (batch.Count > 0)
        {
            var changes = new List<ContactChanged>(batch.Count);
            var deletes = new List<ContactDeleted>();
            foreach (var change in batch.Values)
            {
                change.AddTo(changes, deletes);
            }

            var message = new ContactChangeBatch { BatchId = Guid.NewGuid(), Changes = changes, Deletes = deletes };
            batch.Clear();
            batchBytes = 0;
            PublishedChanges += message.Changes.Count + message.Deletes.Count;
            // the batch held every change not yet in a publish: all of them up to completed are in one now
            await Track(sink.Publish(message, cancel), completed, cancel);
        }

        handedOver = completed;
    }

    async Task Track(Task publish, ulong lsn, CancellationToken cancel)
    {
        PublishedMessages++;
        inFlight.Enqueue((publish, lsn, Environment.TickCount64));
        while (inFlight.Count >= maxInFlight)
        {
            await WaitForOldest(cancel);
        }
    }

    /// <summary>The WAL position below which the broker confirmed everything; throws if a publish failed.</summary>
    public ulong ConfirmedLsn
    {
        get
        {
            Advance();
            return confirmed;
        }
    }

    void Advance()
    {
        while (inFlight.Count > 0 && inFlight.Peek().Publish.IsCompleted)
        {
            var (publish, lsn, _) = inFlight.Dequeue();
            publish.GetAwaiter().GetResult();
            confirmed = Math.Max(confirmed, lsn);
        }

        if (inFlight.Count == 0)
        {
            confirmed = Math.Max(confirmed, handedOver);
        }
        else if (Waited(inFlight.Peek()) >= confirmTimeout)
        {
            // RabbitMQ.Client 7.2 can leave a confirm pending for ever when the connection drops under
            // load (rabbitmq/rabbitmq-dotnet-client#1930): waiting on would hold the slot, and every
            // change behind that publish, until the next restart
            throw new TimeoutException($"RabbitMQ did not confirm a publish within {confirmTimeout.TotalSeconds:0.#} s (setting Source__ConfirmTimeout); publishing again from the last confirmed position");
        }
    }

    static TimeSpan Waited((Task Publish, ulong Lsn, long Since) publish) =>
        TimeSpan.FromMilliseconds(Environment.TickCount64 - publish.Since);

    /// <summary>Flushes and waits until the broker confirmed every publish.</summary>
    public async Task Drain(CancellationToken cancel)
    {
        await Flush(cancel);
        while (inFlight.Count > 0)
        {
            await WaitForOldest(cancel);
        }
    }

    /// <summary>Waits for the oldest outstanding publish (if any) to complete, at most until its confirm timeout.</summary>
    async Task WaitForOldest(CancellationToken cancel)
    {
        if (inFlight.Count > 0)
        {
            var oldest = inFlight.Peek();
            var left = confirmTimeout - Waited(oldest);
            if (left > TimeSpan.Zero)
            {
                try
                {
                    await oldest.Publish.WaitAsync(left, cancel);
                }
                catch (Exception) when (!cancel.IsCancellationRequested)
                {
                    // Advance throws what went wrong: the publish's own failure or the confirm timeout
                }
            }

            Advance();
        }
    }
}
