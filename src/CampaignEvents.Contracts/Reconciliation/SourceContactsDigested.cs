namespace CampaignEvents.Contracts.Reconciliation;

/// <summary>
/// Response to <see cref="DigestSourceContacts"/>, sent to the requester's response address: the
/// non-empty buckets (or sub-buckets) as three parallel arrays of equal length, in ascending bucket
/// order. A bucket missing from <see cref="Buckets"/> holds no row. Like every response of the
/// source side it has no <c>required</c> property (see <see cref="CampaignReconciled"/>) and
/// reports a failure in <see cref="Error"/> instead of a fault.
/// </summary>
public sealed record SourceContactsDigested
{
    /// <summary>The campaign of the request.</summary>
    public Guid CampaignId { get; init; }

    /// <summary>
    /// True when the source holds the campaign (a campaign row or any contact row). Only answered
    /// at the bucket level, always true for sub-buckets. A campaign neither side holds is an error
    /// of the run ("unknown campaign"), not a consistent one.
    /// </summary>
    public bool CampaignExists { get; init; }

    /// <summary>
    /// The source database's WAL position taken just before the digest's snapshot, as the 64-bit
    /// number <c>pg_lsn - '0/0'</c> (on a standby: the replayed position). Reported in
    /// <see cref="CampaignReconciled.SourceLsn"/>; 0 with <see cref="Error"/>.
    /// </summary>
    public long Lsn { get; init; }

    /// <summary>The non-empty buckets (0-255) or sub-buckets (0-65535), ascending.</summary>
    public IReadOnlyList<int> Buckets { get; init; } = [];

    /// <summary>Per entry of <see cref="Buckets"/>: how many source rows with a valid phone fall into it.</summary>
    public IReadOnlyList<long> Counts { get; init; } = [];

    /// <summary>
    /// Per entry of <see cref="Buckets"/>: the XOR of its rows' hashes, each
    /// <c>hashtextextended(phone || '|' || metadata::jsonb::text, 1)</c> computed by PostgreSQL
    /// (docs/adr/0007). Compared for equality with the local side's, never interpreted.
    /// </summary>
    public IReadOnlyList<long> Hashes { get; init; } = [];

    /// <summary>
    /// Source rows the adapter would refuse (phone not normalizable to E.164, metadata it rejects):
    /// never synchronized, so left out of the counts and hashes and reported instead. Only at the
    /// bucket level; empty for sub-buckets.
    /// </summary>
    public IReadOnlyList<RejectedSourceRow> Rejected { get; init; } = [];

    /// <summary>Null on success; otherwise why the source side could not answer (database unreachable, query refused), and every other property is empty.</summary>
    public string? Error { get; init; }
}
