using CampaignEvents.Contracts.Reconciliation;

namespace CampaignEvents.Reconciliation.Reconciling;

/// <summary>
/// One comparison of a campaign's two sides: the counts and digests from <see cref="BucketDrillDown"/>,
/// then the drift that <see cref="InFlightSettle"/> found stable.
/// </summary>
internal sealed class Comparison
{
    public long SourceLsn { get; init; }

    public long SourceContacts { get; init; }

    public long LocalContacts { get; init; }

    public int BucketsCompared { get; init; }

    public int BucketsDiffering { get; set; }

    public int SettledInFlight { get; set; }

    public int StillChanging { get; set; }

    public IReadOnlyList<DriftedContact> Drift { get; set; } = [];

    /// <summary>The source's raw phone text of each drifted key, where the source has the row: a repair reads the row by it.</summary>
    public IReadOnlyDictionary<string, string> RawPhones { get; set; } = new Dictionary<string, string>();

    public IReadOnlyList<RejectedSourceRow> Rejected { get; set; } = [];

    public CampaignReconciled ToReport(Guid campaignId, DateTimeOffset startedAt) => new()
    {
        RunId = Guid.Empty,
        CampaignId = campaignId,
        Outcome = Drift.Count == 0 ? ReconciliationOutcomes.Consistent : ReconciliationOutcomes.Drift,
        StartedAt = startedAt,
        FinishedAt = startedAt,
        SourceContacts = SourceContacts,
        LocalContacts = LocalContacts,
        BucketsCompared = BucketsCompared,
        BucketsDiffering = BucketsDiffering,
        SettledInFlight = SettledInFlight,
        StillChanging = StillChanging,
        Drift = Drift,
        RejectedAtSource = Rejected,
        SourceLsn = $"{SourceLsn >> 32:X}/{SourceLsn & 0xFFFFFFFF:X}",
    };
}
