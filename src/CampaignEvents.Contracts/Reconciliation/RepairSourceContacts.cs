namespace CampaignEvents.Contracts.Reconciliation;

/// <summary>
/// Command with response from the reconciliation consumer to the source side (sent to the queue
/// <c>reconciliation-source-repair</c>): re-publish the current source state of these keys through
/// the normal event path, as <see cref="ContactChangeBatch"/> messages: a change for each key the
/// source holds, a delete for each it does not, all at the version of the repair's read, so any
/// change the read did not see still wins. Answered by <see cref="SourceContactsRepaired"/> once
/// the broker confirmed every batch.
/// </summary>
public sealed record RepairSourceContacts
{
    /// <summary>The campaign of the keys.</summary>
    public required Guid CampaignId { get; init; }

    /// <summary>The keys to repair: phones normalized to E.164. A key the source does not hold is re-published as a delete.</summary>
    public required IReadOnlyList<string> Phones { get; init; }

    /// <summary>
    /// How the source writes those phones, where known (<see cref="SourceKeysListed.RawPhones"/>), so
    /// rows whose phone is not written in E.164 are found too; empty when every row is written in E.164.
    /// </summary>
    public IReadOnlyList<string> RawPhones { get; init; } = [];
}
