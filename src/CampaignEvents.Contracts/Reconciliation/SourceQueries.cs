namespace CampaignEvents.Contracts.Reconciliation;

// Requests from the reconciliation consumer to the source side, and their responses. Each request
// type has a queue of its own (the raw JSON serializer accepts any type, so one endpoint per type
// keeps consumers from seeing each other's messages), and every response carries Error instead of
// a fault, so the requester gets one typed answer. Responses have no required properties: see
// CampaignReconciled.

/// <summary>Digest levels: 256 buckets over the whole campaign, or 65,536 sub-buckets inside some buckets.</summary>
public enum DigestLevel
{
    /// <summary>The buckets.</summary>
    Buckets,
    /// <summary>The sub buckets.</summary>
    SubBuckets,
}

/// <summary>Request (queue <c>reconciliation-source-digest</c>): per-bucket count and hash of the source's contacts of a campaign.</summary>
public sealed record DigestSourceContacts
{
    /// <summary>The campaign id.</summary>
    public required Guid CampaignId { get; init; }

    /// <summary>The level.</summary>
    public required DigestLevel Level { get; init; }

    /// <summary>For <see cref="DigestLevel.SubBuckets"/>: the buckets to split.</summary>
    public IReadOnlyList<int> Buckets { get; init; } = [];
}

/// <summary>Response to <see cref="DigestSourceContacts"/>: non-empty buckets as parallel arrays.</summary>
public sealed record SourceContactsDigested
{
    /// <summary>The campaign id.</summary>
    public Guid CampaignId { get; init; }

    /// <summary>The campaign exists.</summary>
    public bool CampaignExists { get; init; }

    /// <summary>The WAL position taken just before the digest's snapshot.</summary>
    public long Lsn { get; init; }

    /// <summary>The buckets.</summary>
    public IReadOnlyList<int> Buckets { get; init; } = [];

    /// <summary>The counts.</summary>
    public IReadOnlyList<long> Counts { get; init; } = [];

    /// <summary>The hashes.</summary>
    public IReadOnlyList<long> Hashes { get; init; } = [];

    /// <summary>Rows whose phone cannot be normalized (bucket level only).</summary>
    public IReadOnlyList<RejectedSourceRow> Rejected { get; init; } = [];

    /// <summary>The error.</summary>
    public string? Error { get; init; }
}

/// <summary>
/// Request (queue <c>reconciliation-source-keys</c>): the source's keys with their row hashes,
/// either of some sub-buckets or of some phones (as the source writes them, or normalized).
/// With <see cref="IncludeMetadata"/> the rows' metadata comes along (for reports of a few keys).
/// </summary>
public sealed record ListSourceKeys
{
    /// <summary>The campaign id.</summary>
    public required Guid CampaignId { get; init; }

    /// <summary>The sub buckets.</summary>
    public IReadOnlyList<int> SubBuckets { get; init; } = [];

    /// <summary>The phones.</summary>
    public IReadOnlyList<string> Phones { get; init; } = [];

    /// <summary>The include metadata.</summary>
    public bool IncludeMetadata { get; init; }
}

/// <summary>Response to <see cref="ListSourceKeys"/>: keys as parallel arrays.</summary>
public sealed record SourceKeysListed
{
    /// <summary>The campaign id.</summary>
    public Guid CampaignId { get; init; }

    /// <summary>The WAL position taken just before the read's snapshot.</summary>
    public long Lsn { get; init; }

    /// <summary>
    /// The read's version in the domain of the source's capture mode (WAL-based for replication,
    /// the polling column's for polling): every change the snapshot misses carries a higher version.
    /// Null from a source side older than this field: then the version of <see cref="Lsn"/>.
    /// </summary>
    public long? ReadVersion { get; init; }

    /// <summary>Normalized (E.164) phones.</summary>
    public IReadOnlyList<string> Phones { get; init; } = [];

    /// <summary>The same phones as the source writes them.</summary>
    public IReadOnlyList<string> RawPhones { get; init; } = [];

    /// <summary>The row hashes.</summary>
    public IReadOnlyList<long> RowHashes { get; init; } = [];

    /// <summary>jsonb text per key, when asked for.</summary>
    public IReadOnlyList<string> Metadata { get; init; } = [];

    /// <summary>The rejected.</summary>
    public IReadOnlyList<RejectedSourceRow> Rejected { get; init; } = [];

    /// <summary>The error.</summary>
    public string? Error { get; init; }
}

/// <summary>
/// Command with response (queue <c>reconciliation-source-repair</c>): re-publish the current source
/// state of these keys through the normal event path (a <c>ContactChangeBatch</c>), deletes for the
/// keys the source does not hold.
/// </summary>
public sealed record RepairSourceContacts
{
    /// <summary>The campaign id.</summary>
    public required Guid CampaignId { get; init; }

    /// <summary>Normalized phones of the keys to repair.</summary>
    public required IReadOnlyList<string> Phones { get; init; }

    /// <summary>How the source writes those phones, where known (to find non-E.164 rows).</summary>
    public IReadOnlyList<string> RawPhones { get; init; } = [];
}

/// <summary>Response to <see cref="RepairSourceContacts"/>, once the batch is confirmed by the broker.</summary>
public sealed record SourceContactsRepaired
{
    /// <summary>The campaign id.</summary>
    public Guid CampaignId { get; init; }

    /// <summary>The lsn.</summary>
    public long Lsn { get; init; }

    /// <summary>The version the keys were re-published at (in the capture mode's domain).</summary>
    public long? Version { get; init; }

    /// <summary>The changed.</summary>
    public int Changed { get; init; }

    /// <summary>The deleted.</summary>
    public int Deleted { get; init; }

    /// <summary>The error.</summary>
    public string? Error { get; init; }
}

/// <summary>Request (queue <c>reconciliation-source-campaigns</c>): the campaign ids the source holds.</summary>
public sealed record ListSourceCampaigns
{
    /// <summary>The requested by.</summary>
    public Guid RequestedBy { get; init; }
}

/// <summary>Response to <see cref="ListSourceCampaigns"/>.</summary>
public sealed record SourceCampaignsListed
{
    /// <summary>The campaign ids.</summary>
    public IReadOnlyList<Guid> CampaignIds { get; init; } = [];

    /// <summary>The error.</summary>
    public string? Error { get; init; }
}
