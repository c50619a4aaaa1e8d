using CampaignEvents.Source.Configuration;
using CampaignEvents.Source.SlotHealth;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Npgsql;

namespace CampaignEvents.Source;

/// <summary>
/// Ready when the adapter's replication slot exists on the source, a connection streams from it,
/// and its lag is below Source:MaxReadyLagBytes and Source:MaxReadyLag; unhealthy when it was
/// invalidated (wal_status lost) or lags beyond them; degraded while it is being created or
/// re-connected. The description carries wal_status and the lag in bytes and seconds. Reads the
/// slot through <see cref="SlotMonitor"/>: at most one query per Source:SlotStatusInterval.
/// </summary>
sealed class ReplicationSlotHealthCheck(SlotMonitor monitor, IOptions<SourceOptions> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (options.Value.Mode == CaptureMode.Polling)
        {
            return HealthCheckResult.Healthy("polling mode: no replication slot");
        }

        try
        {
            var slot = await monitor.Current(cancellationToken);
            if (!slot.Exists)
            {
                return HealthCheckResult.Degraded($"replication slot {slot.Name} not created yet");
            }

            if (monitor.Problem(slot) is { } problem)
            {
                return HealthCheckResult.Unhealthy(problem);
            }

            var description = slot.Describe(monitor.Lag.Seconds);
            return slot.Active
                ? HealthCheckResult.Healthy(description)
                : HealthCheckResult.Degraded($"{description}: no adapter streams from it");
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy($"source database of ConnectionStrings:Source: {e.Message}");
        }
    }
}
