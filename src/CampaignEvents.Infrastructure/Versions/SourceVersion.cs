namespace CampaignEvents.Infrastructure.Versions;

/// <summary>
/// Versions of events that come from the external database (docs/adr: versions follow the
/// source's commit order). Version = (LSN &lt;&lt; 16) + n:
/// <list type="bullet">
/// <item>a change streamed by logical replication: LSN = its transaction's commit LSN, n = 1..65535 its
/// position in the transaction (capped; the adapter keeps only the last change per key of a transaction,
/// so the cap never decides between two changes of one key);</item>
/// <item>a row read from a snapshot (the initial snapshot, or a repair read by reconciliation):
/// LSN = the WAL position taken before the snapshot (the slot's consistent point for the initial one),
/// n = 0. Any transaction the snapshot does not see commits after that position, so its events win.</item>
/// </list>
/// These are replication's versions. Polling publishes in its own domain (microseconds of a timestamp
/// column, 2 × value + 1 of an integer one: the source adapter's polling capture), and reconciliation's
/// reads of the source take their version in the configured mode's domain (ReadVersion of the source side).
/// </summary>
public static class SourceVersion
{
    const int SequenceBits = 16;
    const long MaxSequence = (1L << SequenceBits) - 1;

    /// <summary>The version of the n-th change (1-based) of a transaction committed at <paramref name="commitLsn"/>.</summary>
    public static long ForChange(ulong commitLsn, long positionInTransaction) =>
        checked((long)(commitLsn << SequenceBits)) + Math.Clamp(positionInTransaction, 1, MaxSequence);

    /// <summary>The version of a row read from a snapshot whose WAL position was taken just before it.</summary>
    public static long ForSnapshot(ulong lsnBeforeSnapshot) => checked((long)(lsnBeforeSnapshot << SequenceBits));

    /// <summary>The WAL position a version came from (for reports and lag).</summary>
    public static ulong Lsn(long version) => (ulong)version >> SequenceBits;
}
