namespace CampaignEvents.Sync.ApplyContactChanges;

/// <summary>
/// Bounds the message bytes one sync process holds read and validated at a time
/// (<c>Sync:MaxBytesInFlight</c>). RabbitMQ's prefetch counts messages, not bytes: 400 snapshot
/// batches of 2,000 rows each were all parsed at once, and a consumer started on a backlog of 1M
/// rows peaked at 1.6 GiB. A message waits here, before it is parsed, until the messages ahead of it
/// are applied; the wait is first come, first served. A message larger than the whole budget goes
/// alone, so nothing ever waits forever, and a batch that waits for more messages is written when
/// its time limit ends, so a full budget cannot stall the batch it waits for.
/// </summary>
internal sealed class BytesInFlight(long limit)
{
    readonly Lock gate = new();
    readonly LinkedList<(long Bytes, TaskCompletionSource Granted)> waiting = new();
    long used;

    /// <summary>Bytes held now, for tests and diagnostics.</summary>
    public long Used
    {
        get
        {
            lock (gate)
            {
                return used;
            }
        }
    }

    /// <summary>Takes <paramref name="bytes"/> of the budget, waiting for earlier messages to be applied if needed.</summary>
    public async ValueTask<Lease> Take(long bytes, CancellationToken cancel)
    {
        bytes = Math.Clamp(bytes, 1, limit);
        LinkedListNode<(long Bytes, TaskCompletionSource Granted)> node;
        lock (gate)
        {
            if (waiting.Count == 0 && used + bytes <= limit)
            {
                used += bytes;
                return new Lease(this, bytes);
            }

            node = waiting.AddLast((bytes, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)));
        }

        await using (cancel.Register(() => Abandon(node)))
        {
            await node.Value.Granted.Task;
        }

        return new Lease(this, bytes);
    }

    void Abandon(LinkedListNode<(long Bytes, TaskCompletionSource Granted)> node)
    {
        lock (gate)
        {
            if (node.List is null)
            {
                return; // granted already: the lease is handed out and released as usual
            }

            waiting.Remove(node);
            node.Value.Granted.TrySetCanceled();
            GrantWaiting();
        }
    }

    void Release(long bytes)
    {
        lock (gate)
        {
            used -= bytes;
            GrantWaiting();
        }
    }

    void GrantWaiting()
    {
        while (waiting.First is { } first && used + first.Value.Bytes <= limit)
        {
            waiting.RemoveFirst();
            used += first.Value.Bytes;
            first.Value.Granted.TrySetResult();
        }
    }

    /// <summary>Bytes taken from the budget, given back once when disposed.</summary>
    public sealed class Lease(BytesInFlight budget, long bytes) : IDisposable
    {
        int released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) == 0)
            {
                budget.Release(bytes);
            }
        }
    }
}
