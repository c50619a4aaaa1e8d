namespace CampaignEvents.Contracts.Reconciliation;

/// <summary>
/// The outcome of reconciling one campaign, published to the exchange <c>campaign-reconciled</c>,
/// stored in <c>reconciliation_runs</c> and answered to the requester of a
/// <see cref="ReconcileCampaign"/>. Counts are numbers of contacts (keys: campaign and E.164 phone).
/// No property is <c>required</c>, unlike events that only flow one way: this record is also a
/// response, and the raw JSON deserializer tries every awaited response type on a bus's response
/// endpoint before the request id picks the right one, so a response must deserialize from any
/// other response's JSON without throwing.
/// </summary>
public sealed record CampaignReconciled
{
    /// <summary>Id of the run (the row in <c>reconciliation_runs</c>); <see cref="Guid.Empty"/> when the run failed before it was stored.</summary>
    public Guid RunId { get; init; }

    /// <summary>The campaign reconciled (the <see cref="ReconcileCampaign.CampaignId"/> of the command).</summary>
    public Guid CampaignId { get; init; }

    /// <summary>One of <see cref="ReconciliationOutcomes"/>: <c>consistent</c>, <c>drift</c>, <c>repaired</c> or <c>error</c>.</summary>
    public string Outcome { get; init; } = "";

    /// <summary>Why the run failed, when <see cref="Outcome"/> is <c>error</c> (unknown campaign, silent or failing source side); null otherwise.</summary>
    public string? Error { get; init; }

    /// <summary>When the consumer started the run (its clock, UTC).</summary>
    public DateTimeOffset StartedAt { get; init; }

    /// <summary>When the run ended, after the repair and its follow-up check if any.</summary>
    public DateTimeOffset FinishedAt { get; init; }

    /// <summary>Contacts the source holds for the campaign, counting only rows the adapter would publish (not <see cref="RejectedAtSource"/>); 0 with <c>error</c>.</summary>
    public long SourceContacts { get; init; }

    /// <summary>Contacts the local database holds for the campaign (tombstones not counted); 0 with <c>error</c>.</summary>
    public long LocalContacts { get; init; }

    /// <summary>Digest buckets whose count or hash differed at the first comparison (of <see cref="BucketsCompared"/>); 0 means consistent at a glance.</summary>
    public int BucketsDiffering { get; init; }

    /// <summary>Non-empty digest buckets (out of 256) compared at the first comparison: those either side holds rows in.</summary>
    public int BucketsCompared { get; init; }

    /// <summary>Keys that differed at first but agreed on a later check: changes in flight, not drift (docs/adr/0006).</summary>
    public int SettledInFlight { get; init; }

    /// <summary>Keys still changing when the settle window ended: neither reported as drift nor counted as consistent; the next run sees them.</summary>
    public int StillChanging { get; init; }

    /// <summary>Keys whose drift remains at the end of the run (after the repair when <see cref="RepairRequested"/>); empty when consistent or repaired.</summary>
    public IReadOnlyList<DriftedContact> Drift { get; init; } = [];

    /// <summary>Keys that differed before the repair and were re-published; empty when no repair ran.</summary>
    public IReadOnlyList<DriftedContact> Repaired { get; init; } = [];

    /// <summary>Source rows the adapter refuses (phone not normalizable, metadata it rejects): never synchronized, listed so an operator can fix them at the source. Not drift.</summary>
    public IReadOnlyList<RejectedSourceRow> RejectedAtSource { get; init; } = [];

    /// <summary>The command's <see cref="ReconcileCampaign.Repair"/>.</summary>
    public bool RepairRequested { get; init; }

    /// <summary>Null when no repair ran (not requested, or nothing differed); true once the follow-up check found the campaign consistent, false when drift remained.</summary>
    public bool? Converged { get; init; }

    /// <summary>The source's WAL position the (last) source digest was taken at, in PostgreSQL's text form (<c>16/B374D848</c>); null with <c>error</c>.</summary>
    public string? SourceLsn { get; init; }
}
