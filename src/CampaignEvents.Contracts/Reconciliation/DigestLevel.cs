namespace CampaignEvents.Contracts.Reconciliation;

/// <summary>
/// The granularity of a <see cref="DigestSourceContacts"/> request (docs/adr/0007). A key's bucket
/// is the low 8 bits of PostgreSQL's <c>hashtextextended(phone, 0)</c> of its E.164 phone, its
/// sub-bucket the low 16 bits, so every sub-bucket lies inside exactly one bucket
/// (<c>subBucket &amp; 255</c>). Serialized as its number (0 or 1).
/// </summary>
public enum DigestLevel
{
    /// <summary>The 256 buckets (0-255) over the whole campaign: the first, cheap comparison.</summary>
    Buckets,

    /// <summary>The 65,536 sub-buckets (0-65535), only those inside the buckets a request names: the drill-down into differing buckets.</summary>
    SubBuckets,
}
