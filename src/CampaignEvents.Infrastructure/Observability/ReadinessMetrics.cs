using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CampaignEvents.Infrastructure.Observability;

/// <summary>
/// The checks of <c>/readyz</c> as a gauge, so Prometheus can alert on readiness without probing
/// the endpoint: <c>campaign_events.health.ready</c> is 1 per passing check and 0 per failing one
/// (tag <c>check</c>), from the health check publisher's last run (every 10 s).
/// </summary>
sealed class ReadinessMetrics : IHealthCheckPublisher, IDisposable
{
    public const string MeterName = "CampaignEvents.Health";

    public const string ReadyName = "campaign_events.health.ready";

    readonly Meter meter;
    readonly ConcurrentDictionary<string, int> checks = new();

    public ReadinessMetrics(IMeterFactory meters)
    {
        meter = meters.Create(MeterName);
        meter.CreateObservableGauge(
            ReadyName,
            () => checks.Select(c => new Measurement<int>(c.Value, new KeyValuePair<string, object?>("check", c.Key))),
            "{state}",
            "1 while the readiness check (tag check: the databases, the broker, the replication slot) passes, 0 while it fails; /readyz answers 503 while any is 0");
    }

    public Task PublishAsync(HealthReport report, CancellationToken cancellationToken)
    {
        foreach (var (name, entry) in report.Entries)
        {
            checks[name] = entry.Status == HealthStatus.Healthy ? 1 : 0;
        }

        return Task.CompletedTask;
    }

    public void Dispose() => meter.Dispose();
}
