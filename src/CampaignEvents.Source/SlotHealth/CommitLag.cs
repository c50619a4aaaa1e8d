namespace CampaignEvents.Source.SlotHealth;

/// <summary>
/// The adapter's own measure of its lag in time: how long ago the oldest transaction read from the
/// slot but not yet confirmed by the broker committed (0 when none waits). Unlike the server's
/// flush_lag it keeps growing while the adapter is stuck or reconnecting: entries survive a session
/// restart, and the transactions read again after it are not added twice.
/// </summary>
internal sealed class CommitLag(TimeProvider clock)
{
    readonly Lock gate = new();
    readonly Queue<(ulong EndLsn, DateTimeOffset CommittedAt)> pending = new();
    ulong lastAdded;

    /// <summary>A transaction read from the slot (its end position and commit time).</summary>
    public void Read(ulong endLsn, DateTimeOffset committedAt)
    {
        lock (gate)
        {
            if (endLsn > lastAdded)
            {
                pending.Enqueue((endLsn, committedAt));
                lastAdded = endLsn;
            }
        }
    }

    /// <summary>Everything up to this position was confirmed by the broker.</summary>
    public void Confirmed(ulong lsn)
    {
        lock (gate)
        {
            while (pending.TryPeek(out var head) && head.EndLsn <= lsn)
            {
                pending.Dequeue();
            }
        }
    }

    public double Seconds
    {
        get
        {
            lock (gate)
            {
                return pending.TryPeek(out var head) ? Math.Max(0, (clock.GetUtcNow() - head.CommittedAt).TotalSeconds) : 0;
            }
        }
    }
}
