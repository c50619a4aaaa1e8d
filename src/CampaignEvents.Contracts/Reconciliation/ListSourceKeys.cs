namespace CampaignEvents.Contracts.Reconciliation;

/// <summary>
/// Request from the reconciliation consumer to the source side (sent to the queue
/// <c>reconciliation-source-keys</c>): the source's keys of one campaign with their row hashes,
/// either of some sub-buckets (the drill-down), or of some phones (to re-check keys in flight, and
/// for reports), or both; read in one snapshot. Answered by <see cref="SourceKeysListed"/>.
/// </summary>
public sealed record ListSourceKeys
{
    /// <summary>The campaign whose keys are listed.</summary>
    public required Guid CampaignId { get; init; }

    /// <summary>Sub-buckets (0-65535, see <see cref="DigestLevel"/>) whose every key is wanted; empty for none.</summary>
    public IReadOnlyList<int> SubBuckets { get; init; } = [];

    /// <summary>
    /// Phones whose rows are wanted, compared with the source's phone column as it is written:
    /// normalized E.164 phones, or the raw texts of <see cref="SourceKeysListed.RawPhones"/> to find
    /// rows the source writes otherwise. Empty for none. A phone the source does not hold is simply absent from the answer.
    /// </summary>
    public IReadOnlyList<string> Phones { get; init; } = [];

    /// <summary>
    /// When true, the answer carries each key's metadata in <see cref="SourceKeysListed.Metadata"/>
    /// (for drift reports, which show both sides); false keeps the answer small.
    /// </summary>
    public bool IncludeMetadata { get; init; }
}
