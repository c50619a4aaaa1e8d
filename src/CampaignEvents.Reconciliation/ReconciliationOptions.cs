using System.ComponentModel.DataAnnotations;

namespace CampaignEvents.Reconciliation;

/// <summary>Reconciliation settings, section <c>Reconciliation</c> (environment: <c>Reconciliation__Interval</c> and so on).</summary>
public sealed class ReconciliationOptions
{
    public const string Section = "Reconciliation";

    /// <summary>How often <c>run</c> reconciles every campaign; 0 (the default) turns the schedule off.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "30.00:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.Zero;

    /// <summary>Whether scheduled runs repair the drift they find.</summary>
    public bool RepairOnSchedule { get; set; }

    /// <summary>
    /// How long a differing key is watched before it counts as drift: events published before the
    /// source digest have this long to be applied (docs/adr/0006).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan Settle { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long each request to the source side may take.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan SourceTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a repair may take to converge (the repaired keys applied locally).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan RepairTimeout { get; set; } = TimeSpan.FromSeconds(60);
}
