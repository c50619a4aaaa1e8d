using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Source.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Npgsql;

namespace CampaignEvents.Source;

/// <summary>
/// Ready when the adapter's replication slot exists on the source and a connection streams from
/// it; degraded while it is being created or re-connected, with its WAL lag in the description.
/// </summary>
sealed class ReplicationSlotHealthCheck(
    [FromKeyedServices(DatabaseSettings.Source)] NpgsqlDataSource source,
    IOptions<SourceOptions> options) : IHealthCheck
{
    const string SlotSql = """
        SELECT active, pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint
        FROM pg_replication_slots WHERE slot_name = $1
        """;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var slot = options.Value.SlotName;
        if (options.Value.Mode == CaptureMode.Polling)
        {
            return HealthCheckResult.Healthy("polling mode: no replication slot");
        }

        try
        {
            await using var command = source.CreateCommand(SlotSql);
            command.Parameters.AddWithValue(slot);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                return HealthCheckResult.Degraded($"replication slot {slot} not created yet");
            }

            var active = reader.GetBoolean(0);
            var lag = reader.IsDBNull(1) ? 0 : reader.GetInt64(1);
            return active
                ? HealthCheckResult.Healthy($"replication slot {slot} streaming, {lag:N0} bytes of WAL behind")
                : HealthCheckResult.Degraded($"replication slot {slot} exists but no adapter streams from it, {lag:N0} bytes of WAL behind");
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy($"source database of ConnectionStrings:Source: {e.Message}");
        }
    }
}
