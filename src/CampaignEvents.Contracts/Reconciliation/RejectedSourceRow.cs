namespace CampaignEvents.Contracts.Reconciliation;

/// <summary>A source row the adapter refuses and never publishes (its phone cannot be normalized to E.164, or its metadata is rejected).</summary>
public sealed record RejectedSourceRow
{
    /// <summary>The phone text as the source holds it (empty when the column is null), so an operator can find the row.</summary>
    public required string RawPhone { get; init; }

    /// <summary>Why the adapter refuses it, in words (e.g. the phone's parse error, or the metadata limit exceeded).</summary>
    public required string Reason { get; init; }
}
