using System.ComponentModel.DataAnnotations;

namespace CampaignEvents.Infrastructure.Observability;

/// <summary>Section <c>Observability</c>: where <c>campaign-events run</c> serves metrics and health, on loopback.</summary>
public sealed class ObservabilityOptions
{
    public const string Section = "Observability";

    /// <summary>Prometheus scrape endpoint <c>http://127.0.0.1:{MetricsPort}/metrics</c>; 0 turns it off.</summary>
    [Range(0, 65535)]
    public int MetricsPort { get; set; } = 9464;

    /// <summary>Health endpoints <c>/healthz</c> (alive) and <c>/readyz</c> (servers reachable); 0 turns them off.</summary>
    [Range(0, 65535)]
    public int HealthPort { get; set; } = 9465;
}
