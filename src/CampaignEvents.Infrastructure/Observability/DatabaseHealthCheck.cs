using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace CampaignEvents.Infrastructure.Observability;

/// <summary>Ready when the database of one connection string answers a trivial query.</summary>
sealed class DatabaseHealthCheck(IServiceProvider services, string name) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var dataSource = services.GetRequiredKeyedService<NpgsqlDataSource>(name);
            await using var command = dataSource.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(cancellationToken);
            return HealthCheckResult.Healthy($"database of ConnectionStrings:{name} answers");
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            return HealthCheckResult.Unhealthy($"database of ConnectionStrings:{name}: {e.Message}");
        }
    }
}
