namespace CampaignEvents.Contracts.Reconciliation;

/// <summary>
/// The outcome of reconciling one campaign, published to the exchange <c>campaign-reconciled</c>
/// and stored in <c>reconciliation_runs</c>. <see cref="Outcome"/> is one of
/// <see cref="ReconciliationOutcomes"/>.
/// No property is <c>required</c>, unlike events that only flow one way: this record is also a
/// response, and the raw JSON deserializer tries every awaited response type on a bus's response
/// endpoint before the request id picks the right one, so a response must deserialize from any
/// other response's JSON without throwing.
/// </summary>
public sealed record CampaignReconciled
{
    /// <summary>Id of the run (the row in <c>reconciliation_runs</c>); empty when the run failed before it was stored.</summary>
    public Guid RunId { get; init; }

    /// <summary>The campaign reconciled.</summary>
    public Guid CampaignId { get; init; }

    /// <summary><c>consistent</c>, <c>drift</c>, <c>repaired</c> or <c>error</c>.</summary>
    public string Outcome { get; init; } = "";

    /// <summary>The reason, when <see cref="Outcome"/> is <c>error</c>.</summary>
    public string? Error { get; init; }

    /// <summary>The started at.</summary>
    public DateTimeOffset StartedAt { get; init; }

    /// <summary>The finished at.</summary>
    public DateTimeOffset FinishedAt { get; init; }

    /// <summary>Contacts the source holds for the campaign (valid phones only).</summary>
    public long SourceContacts { get; init; }

    /// <summary>Contacts the local database holds for the campaign.</summary>
    public long LocalContacts { get; init; }

    /// <summary>Digest buckets that differed at the first comparison (of <see cref="BucketsCompared"/>).</summary>
    public int BucketsDiffering { get; init; }

    /// <summary>The buckets compared.</summary>
    public int BucketsCompared { get; init; }

    /// <summary>Keys that differed at first but agreed on a later check: changes in flight, not drift.</summary>
    public int SettledInFlight { get; init; }

    /// <summary>Keys still changing when the settle window ended (neither reported nor counted as consistent; the next run sees them).</summary>
    public int StillChanging { get; init; }

    /// <summary>Keys whose drift remains at the end of the run (after repair when <see cref="RepairRequested"/>).</summary>
    public IReadOnlyList<DriftedContact> Drift { get; init; } = [];

    /// <summary>Keys that differed before repair (empty when no repair ran).</summary>
    public IReadOnlyList<DriftedContact> Repaired { get; init; } = [];

    /// <summary>Source rows whose phone cannot be normalized: never synchronized, listed so an operator can fix them.</summary>
    public IReadOnlyList<RejectedSourceRow> RejectedAtSource { get; init; } = [];

    /// <summary>The repair requested.</summary>
    public bool RepairRequested { get; init; }

    /// <summary>When repair ran: true once the follow-up check found the campaign consistent.</summary>
    public bool? Converged { get; init; }

    /// <summary>The source WAL position the (last) source digest was taken at.</summary>
    public string? SourceLsn { get; init; }
}

/// <summary>The values of <see cref="CampaignReconciled.Outcome"/>.</summary>
public static class ReconciliationOutcomes
{
    /// <summary>The consistent.</summary>
    public const string Consistent = "consistent";
    /// <summary>The drift.</summary>
    public const string Drift = "drift";
    /// <summary>The repaired.</summary>
    public const string Repaired = "repaired";
    /// <summary>The error.</summary>
    public const string Error = "error";
}

/// <summary>How a key differs between the source and the local database.</summary>
public static class DriftKinds
{
    /// <summary>At the source, not locally.</summary>
    public const string MissingLocally = "missing_locally";

    /// <summary>Locally, not at the source.</summary>
    public const string ExtraLocally = "extra_locally";

    /// <summary>On both sides with different metadata.</summary>
    public const string Different = "different";
}

/// <summary>One key that differs, with what each side holds.</summary>
public sealed record DriftedContact
{
    /// <summary>One of <see cref="DriftKinds"/>.</summary>
    public required string Kind { get; init; }

    /// <summary>The key's phone number in E.164.</summary>
    public required string PhoneNumber { get; init; }

    /// <summary>The local row's version, when the row exists locally.</summary>
    public long? LocalVersion { get; init; }

    /// <summary>The version a repair publishes for the source's row (its snapshot version), when the row exists at the source.</summary>
    public long? SourceVersion { get; init; }

    /// <summary>The local metadata (jsonb text), when the row exists locally.</summary>
    public string? LocalMetadata { get; init; }

    /// <summary>The source metadata (jsonb text), when the row exists at the source.</summary>
    public string? SourceMetadata { get; init; }
}

/// <summary>A source row whose phone cannot be normalized to E.164.</summary>
public sealed record RejectedSourceRow
{
    /// <summary>The phone text as the source holds it.</summary>
    public required string RawPhone { get; init; }

    /// <summary>The reason.</summary>
    public required string Reason { get; init; }
}
