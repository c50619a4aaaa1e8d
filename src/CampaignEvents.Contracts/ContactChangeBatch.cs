namespace CampaignEvents.Contracts;

/// <summary>
/// Many contact changes and deletes in one message, published to the exchange
/// <c>contact-change-batch</c> (<see cref="ContractNames.ContactChangeBatchExchange"/>). The source
/// adapter uses it for the initial snapshot, busy streams and repairs; upstream systems may use it
/// too. Each item is applied exactly as if it had come alone (by its own version), so the order of
/// items inside the batch does not matter. One invalid item refuses the whole message to the error
/// queue: nothing of it is applied.
/// </summary>
public sealed record ContactChangeBatch
{
    /// <summary>Unique id of this batch, chosen by the publisher; for tracing only.</summary>
    public required Guid BatchId { get; init; }

    /// <summary>Changed contacts, each a whole <see cref="ContactChanged"/>. Empty (or absent in JSON) when the batch holds only deletes.</summary>
    public IReadOnlyList<ContactChanged> Changes { get; init; } = [];

    /// <summary>Deleted contacts, each a whole <see cref="ContactDeleted"/>. Empty (or absent in JSON) when the batch holds only changes.</summary>
    public IReadOnlyList<ContactDeleted> Deletes { get; init; } = [];
}
