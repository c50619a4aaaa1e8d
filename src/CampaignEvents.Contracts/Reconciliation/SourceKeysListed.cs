namespace CampaignEvents.Contracts.Reconciliation;

/// <summary>
/// Response to <see cref="ListSourceKeys"/>, sent to the requester's response address: one entry
/// per key in the parallel arrays <see cref="Phones"/>, <see cref="RawPhones"/>,
/// <see cref="RowHashes"/> (and <see cref="Metadata"/> when asked for), each key once. No
/// <c>required</c> property; a failure is reported in <see cref="Error"/>.
/// </summary>
public sealed record SourceKeysListed
{
    /// <summary>The campaign of the request.</summary>
    public Guid CampaignId { get; init; }

    /// <summary>The source's WAL position taken just before the read's snapshot (<c>pg_lsn - '0/0'</c>, as in <see cref="SourceContactsDigested.Lsn"/>).</summary>
    public long Lsn { get; init; }

    /// <summary>
    /// The read's version in the domain of the source's capture mode (WAL-based for replication,
    /// the polling column's for polling): every change the snapshot misses is published with a
    /// higher version, so a local row at or above it is a change in flight, not drift
    /// (docs/adr/0006). Null from a source side older than this field: then the version of
    /// <see cref="Lsn"/> is used.
    /// </summary>
    public long? ReadVersion { get; init; }

    /// <summary>The keys' phones normalized to E.164, as the local side stores them.</summary>
    public IReadOnlyList<string> Phones { get; init; } = [];

    /// <summary>Per key: the phone as the source writes it (the same text when already E.164).</summary>
    public IReadOnlyList<string> RawPhones { get; init; } = [];

    /// <summary>Per key: its row hash, <c>hashtextextended(phone || '|' || metadata::jsonb::text, 1)</c> (docs/adr/0007), compared with the local row's.</summary>
    public IReadOnlyList<long> RowHashes { get; init; } = [];

    /// <summary>
    /// Per key, only when <see cref="ListSourceKeys.IncludeMetadata"/> was true: the metadata as
    /// the adapter would publish it, as jsonb text, for keys found by
    /// <see cref="ListSourceKeys.Phones"/> (keys found by sub-bucket may have an empty text). An
    /// empty list when metadata was not asked for.
    /// </summary>
    public IReadOnlyList<string> Metadata { get; init; } = [];

    /// <summary>Rows among those asked for that the adapter would refuse (see <see cref="SourceContactsDigested.Rejected"/>); not listed as keys.</summary>
    public IReadOnlyList<RejectedSourceRow> Rejected { get; init; } = [];

    /// <summary>Null on success; otherwise why the source side could not answer, and every other property is empty.</summary>
    public string? Error { get; init; }
}
