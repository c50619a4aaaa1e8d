using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Sync.ApplyContactChanges;
using CampaignEvents.Sync.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace CampaignEvents.Sync.LocalDatabase;

/// <summary>
/// The sync role's circuit breaker on the local database. Every write and look-up of the role runs
/// through it: a transient failure (database unreachable, restarting, deadlock) is retried with
/// back-off (<c>Sync:TransientRetry*</c>); once that budget is spent the breaker opens: no caller
/// tries the database any more, one probe asks it every <c>Sync:BreakerProbeInterval</c>, and the
/// callers wait, holding their messages unacknowledged, so the consumer takes no more from
/// RabbitMQ. When the database answers, the breaker closes and the work goes on by itself. A
/// transient failure never sends a message to the error queue, however long it lasts (docs/adr/0002).
/// </summary>
internal sealed partial class DatabaseBreaker(
    [FromKeyedServices(DatabaseSettings.Contacts)] NpgsqlDataSource dataSource,
    IOptions<SyncOptions> options,
    SyncMetrics metrics,
    ILogger<DatabaseBreaker> logger)
{
    readonly SemaphoreSlim probing = new(1, 1);
    volatile TaskCompletionSource? open;

    /// <summary>Whether the breaker is open now (the database was away for longer than the retry budget).</summary>
    public bool IsOpen => open is not null;

    public async Task<T> Run<T>(Func<CancellationToken, Task<T>> work, CancellationToken cancel)
    {
        var settings = options.Value;
        var failures = 0;
        var pause = settings.TransientRetryMinInterval;
        while (true)
        {
            if (open is { } closed)
            {
                await closed.Task.WaitAsync(cancel);
            }

            try
            {
                return await work(cancel);
            }
            catch (Exception e) when (!TransientFailures.IsCausedByMessage(e) && !cancel.IsCancellationRequested)
            {
                // anything that is not the message's own fault is the database's: waited out
                failures++;
                if (failures <= settings.TransientRetryLimit)
                {
                    LogRetrying(e.Message, failures, settings.TransientRetryLimit, pause.TotalSeconds);
                    await Task.Delay(pause, cancel);
                    pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, settings.TransientRetryMaxInterval.Ticks));
                    continue;
                }

                await Open(e, cancel);
                failures = 0;
                pause = settings.TransientRetryMinInterval;
            }
        }
    }

    /// <summary>Opens the breaker (if no one did) and waits until a probe finds the database answering.</summary>
    async Task Open(Exception failure, CancellationToken cancel)
    {
        var gate = open;
        if (gate is null)
        {
            await probing.WaitAsync(cancel);
            try
            {
                gate = open;
                if (gate is null)
                {
                    gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    open = gate;
                    metrics.BreakerOpened();
                    LogOpened(failure.Message, options.Value.TransientRetryLimit, options.Value.BreakerProbeInterval.TotalSeconds);
                    _ = Probe(gate);
                }
            }
            finally
            {
                probing.Release();
            }
        }

        await gate.Task.WaitAsync(cancel);
    }

    /// <summary>Asks the database until it answers, then closes the breaker. Runs on its own, not on a caller's cancellation.</summary>
    async Task Probe(TaskCompletionSource gate)
    {
        var started = DateTime.UtcNow;
        while (true)
        {
            await Task.Delay(options.Value.BreakerProbeInterval);
            try
            {
                // a probe that hangs must not hold the breaker open for ever
                using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await using var connection = await dataSource.OpenConnectionAsync(patience.Token);
                await using var command = connection.CreateCommand();
                command.CommandText = "SELECT 1";
                await command.ExecuteScalarAsync(patience.Token);
                break;
            }
            catch (Exception e)
            {
                // whatever the failure, the breaker stays open and the next probe asks again
                LogStillAway(e.Message);
            }
        }

        open = null;
        metrics.BreakerClosed();
        LogClosed((DateTime.UtcNow - started).TotalSeconds);
        gate.TrySetResult();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Local database failed ({Reason}); retry {Attempt} of {Limit} in {Seconds:0.##} s")]
    partial void LogRetrying(string reason, int attempt, int limit, double seconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "Local database away past the retry budget (Sync:TransientRetryLimit = {Limit}): {Reason}. Circuit open: the consumer holds its messages unacknowledged and takes no more until the database answers; asking it every {Seconds:0.#} s")]
    partial void LogOpened(string reason, int limit, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Local database still away: {Reason}")]
    partial void LogStillAway(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Local database answers again after {Seconds:0.#} s: circuit closed, the consumer goes on")]
    partial void LogClosed(double seconds);
}
