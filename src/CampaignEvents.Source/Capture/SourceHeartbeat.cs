using CampaignEvents.Source.Configuration;
using Dapper;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace CampaignEvents.Source.Capture;

/// <summary>
/// Writes a logical decoding message on the source when no transaction was read for
/// Source:HeartbeatInterval: it comes back through the slot, so an idle slot's confirmed position
/// still advances and the source can recycle its WAL (docs/adr/0004).
/// </summary>
internal sealed partial class SourceHeartbeat(SourceOptions settings, NpgsqlDataSource source, ILogger logger)
{
    /// <summary>Prefix of the logical decoding messages the adapter writes as heartbeats.</summary>
    public const string Prefix = "campaign-events-heartbeat";

    const string EmitHeartbeat = "SELECT pg_logical_emit_message(false, @prefix, '')";

    long lastActivityTicks = DateTime.UtcNow.Ticks;

    /// <summary>A transaction was read: no heartbeat needed for another interval.</summary>
    public void Touch() => Interlocked.Exchange(ref lastActivityTicks, DateTime.UtcNow.Ticks);

    public async Task Run(CancellationToken cancel)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromTicks(Math.Max(settings.HeartbeatInterval.Ticks / 2, TimeSpan.TicksPerSecond / 2)));
        while (await timer.WaitForNextTickAsync(cancel))
        {
            if (DateTime.UtcNow.Ticks - Interlocked.Read(ref lastActivityTicks) < settings.HeartbeatInterval.Ticks)
            {
                continue;
            }

            try
            {
                await using var connection = await source.OpenConnectionAsync(cancel);
                await connection.ExecuteScalarAsync(new CommandDefinition(EmitHeartbeat, new { prefix = Prefix }, cancellationToken: cancel));
                Touch();
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                // without heartbeats the slot still advances with every captured change; only idle WAL piles up
                LogHeartbeatFailed(e.Message);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Heartbeat on the source failed ({Reason}); the slot advances only with captured changes")]
    partial void LogHeartbeatFailed(string reason);
}
