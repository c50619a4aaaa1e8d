namespace CampaignEvents.Contracts.Reconciliation;

/// <summary>The values of <see cref="CampaignReconciled.Outcome"/> (lower case, stable: reports and alerts match on them).</summary>
public static class ReconciliationOutcomes
{
    /// <summary>Both sides hold the same contacts with the same metadata (keys in flight aside).</summary>
    public const string Consistent = "consistent";

    /// <summary>Some keys differ (<see cref="CampaignReconciled.Drift"/>); without repair, or the repair did not converge.</summary>
    public const string Drift = "drift";

    /// <summary>Keys differed, were re-published by the source, and the follow-up check found the campaign consistent.</summary>
    public const string Repaired = "repaired";

    /// <summary>The run could not compare (<see cref="CampaignReconciled.Error"/> says why); nothing was changed.</summary>
    public const string Error = "error";
}
