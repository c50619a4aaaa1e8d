using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Sync.ApplyContactChanges;
using CampaignEvents.Sync.Configuration;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace CampaignEvents.Sync.Tombstones;

/// <summary>
/// Removes tombstones older than Sync:TombstoneRetention, every Sync:TombstoneCleanupInterval
/// (docs/adr/0003). Several sync processes may run it at once: the delete is idempotent.
/// </summary>
internal sealed partial class TombstoneCleanup(
    [FromKeyedServices(DatabaseSettings.Contacts)] NpgsqlDataSource dataSource,
    IOptions<SyncOptions> options,
    ILogger<TombstoneCleanup> logger) : BackgroundService
{
    const string DeleteExpired = "DELETE FROM contact_tombstones WHERE deleted_at < now() - @retention";

    public async Task<int> RunOnce(CancellationToken cancel)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancel);
        return await connection.ExecuteAsync(new CommandDefinition(DeleteExpired, new { retention = options.Value.TombstoneRetention }, cancellationToken: cancel));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.TombstoneCleanupInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var removed = await RunOnce(stoppingToken);
                if (removed > 0)
                {
                    LogRemoved(removed, options.Value.TombstoneRetention);
                }
            }
            catch (Exception e) when (TransientFailures.IsTransient(e))
            {
                LogSkipped(e.Message);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Removed {Count} tombstones older than {Retention}")]
    partial void LogRemoved(int count, TimeSpan retention);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tombstone cleanup skipped this time: {Reason}")]
    partial void LogSkipped(string reason);
}
