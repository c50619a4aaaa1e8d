namespace CampaignEvents.Contracts;

/// <summary>
/// Many contact changes and deletes in one message, published to the exchange
/// <c>contact-change-batch</c>. The source adapter uses it for the initial snapshot and busy
/// streams; upstream systems may use it too. Each item is applied exactly as if it had come alone.
/// </summary>
public sealed record ContactChangeBatch
{
    /// <summary>Unique id of this batch.</summary>
    public required Guid BatchId { get; init; }

    /// <summary>Changed contacts (may be empty).</summary>
    public IReadOnlyList<ContactChanged> Changes { get; init; } = [];

    /// <summary>Deleted contacts (may be empty).</summary>
    public IReadOnlyList<ContactDeleted> Deletes { get; init; } = [];
}
