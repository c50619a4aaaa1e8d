namespace CampaignEvents.Contracts.Reconciliation;

/// <summary>The values of <see cref="DriftedContact.Kind"/>: how a key differs between the source and the local database.</summary>
public static class DriftKinds
{
    /// <summary>The source holds the key, the local database does not (e.g. its change never arrived).</summary>
    public const string MissingLocally = "missing_locally";

    /// <summary>The local database holds the key, the source does not (e.g. its delete never arrived).</summary>
    public const string ExtraLocally = "extra_locally";

    /// <summary>Both hold the key with different metadata (e.g. its newest change never arrived).</summary>
    public const string Different = "different";
}
