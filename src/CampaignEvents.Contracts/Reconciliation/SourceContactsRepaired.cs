namespace CampaignEvents.Contracts.Reconciliation;

/// <summary>
/// Response to <see cref="RepairSourceContacts"/>, sent to the requester's response address once
/// the broker confirmed every re-published batch (so the sync consumer will see them). No
/// <c>required</c> property; a failure is reported in <see cref="Error"/>, and then nothing may
/// have been published, or only part of it.
/// </summary>
public sealed record SourceContactsRepaired
{
    /// <summary>The campaign of the request.</summary>
    public Guid CampaignId { get; init; }

    /// <summary>The source's WAL position taken just before the repair's read (<c>pg_lsn - '0/0'</c>).</summary>
    public long Lsn { get; init; }

    /// <summary>
    /// The version every re-published change and delete carries: the repair read's version in the
    /// capture mode's domain (see <see cref="SourceKeysListed.ReadVersion"/>). The follow-up check
    /// waits for local rows at or above it. Null with <see cref="Error"/>.
    /// </summary>
    public long? Version { get; init; }

    /// <summary>How many keys were re-published as changes (the source holds them).</summary>
    public int Changed { get; init; }

    /// <summary>How many keys were re-published as deletes (the source does not hold them).</summary>
    public int Deleted { get; init; }

    /// <summary>Null on success; otherwise why the repair failed (database, metadata, or a batch the broker could not route).</summary>
    public string? Error { get; init; }
}
