namespace CampaignEvents.Contracts.Reconciliation;

/// <summary>One key that differs between the sides, with what each side holds; an item of <see cref="CampaignReconciled.Drift"/> and <see cref="CampaignReconciled.Repaired"/>.</summary>
public sealed record DriftedContact
{
    /// <summary>One of <see cref="DriftKinds"/>.</summary>
    public required string Kind { get; init; }

    /// <summary>The key's phone number in E.164 (with the report's campaign, the key).</summary>
    public required string PhoneNumber { get; init; }

    /// <summary>The local row's version (last writer wins, docs/adr/0001); null when the row does not exist locally.</summary>
    public long? LocalVersion { get; init; }

    /// <summary>The version a repair publishes for the source's row (the read's version, see <see cref="SourceKeysListed.ReadVersion"/>); null when the source does not hold the key.</summary>
    public long? SourceVersion { get; init; }

    /// <summary>The local metadata as jsonb text; null when the row does not exist locally.</summary>
    public string? LocalMetadata { get; init; }

    /// <summary>The source metadata as the adapter would publish it, as jsonb text; null when the source does not hold the key.</summary>
    public string? SourceMetadata { get; init; }
}
