namespace CampaignEvents.Contracts.Reconciliation;

/// <summary>
/// Request from the reconciliation consumer to the source side (sent to the queue
/// <c>reconciliation-source-digest</c>): the per-bucket row count and hash of the source's contacts
/// of one campaign, read in one snapshot. Answered by <see cref="SourceContactsDigested"/>.
/// </summary>
public sealed record DigestSourceContacts
{
    /// <summary>The campaign whose source contacts are digested.</summary>
    public required Guid CampaignId { get; init; }

    /// <summary>Buckets over the whole campaign, or sub-buckets inside <see cref="Buckets"/>.</summary>
    public required DigestLevel Level { get; init; }

    /// <summary>
    /// For <see cref="DigestLevel.SubBuckets"/>: the buckets (0-255) whose sub-buckets are wanted,
    /// usually those that differed at the bucket level. Ignored for <see cref="DigestLevel.Buckets"/>.
    /// </summary>
    public IReadOnlyList<int> Buckets { get; init; } = [];
}
