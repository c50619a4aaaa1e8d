using CampaignEvents.Contracts;

namespace CampaignEvents.Source.Publishing;

/// <summary>Where the adapter's events go: the bus in production (awaited publish = broker confirmed).</summary>
public interface IEventSink
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
/// </summary>
public sealed class ChangePublisher(IEventSink sink, int batchSize, int maxInFlight, TimeSpan confirmTimeout)
{
    readonly Queue<(Task Publish, ulong Lsn, long Since)> inFlight = new();
    readonly Dictionary<(Guid, string), object> batch = [];
    ulong handedOver;
    ulong completed;
    ulong confirmed;

    /// <summary>Changes waiting in the batch being filled.</summary>
    public int Buffered => batch.Count;

    public int InFlight => inFlight.Count;

    public long PublishedMessages { get; private set; }

    public long PublishedChanges { get; private set; }

    /// <summary>Adds a transaction's events; full batches go out at once, the rest waits for more or <see cref="Flush"/>.</summary>
    public async Task Add(Capture.FoldedChanges changes, CancellationToken cancel)
    {
        // campaigns before their contacts, so the consumer rarely waits for a campaign
        foreach (var campaign in changes.Campaigns)
        {
            await Track(sink.Publish(campaign, cancel), completed, cancel);
        }

        foreach (var change in changes.Changes)
        {
            Put((change.CampaignId, change.PhoneNumber), change, change.Version);
            if (batch.Count >= batchSize)
            {
                await Flush(cancel);
            }
        }

        foreach (var delete in changes.Deletes)
        {
            Put((delete.CampaignId, delete.PhoneNumber), delete, delete.Version);
            if (batch.Count >= batchSize)
            {
                await Flush(cancel);
            }
        }

        completed = Math.Max(completed, changes.EndLsn);
        if (batch.Count == 0)
        {
            handedOver = completed;
        }
    }

    void Put((Guid, string) key, object item, long version)
    {
        // one key once per batch, the newest: a set-based apply cannot touch a row twice in one statement
        if (!batch.TryGetValue(key, out var existing) || VersionOf(existing) < version)
        {
            batch[key] = item;
        }
    }

    static long VersionOf(object item) => item switch
    {
        ContactChanged c => c.Version,
        ContactDeleted d => d.Version,
        _ => long.MinValue,
    };

    /// <summary>Publishes the partly filled batch (the stream went quiet).</summary>
    public async Task Flush(CancellationToken cancel)
    {
        if (batch.Count > 0)
        {
            var message = new ContactChangeBatch
            {
                BatchId = Guid.NewGuid(),
                Changes = [.. batch.Values.OfType<ContactChanged>()],
                Deletes = [.. batch.Values.OfType<ContactDeleted>()],
            };
            batch.Clear();
            PublishedChanges += message.Changes.Count + message.Deletes.Count;
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
