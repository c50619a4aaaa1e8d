using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.Source.Capture;
using CampaignEvents.Source.Configuration;
using CampaignEvents.Source.Leadership;
using CampaignEvents.Source.Polling;
using CampaignEvents.Source.Preflight;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace CampaignEvents.Source;

/// <summary>
/// Hosts the capture: checks the source at start (a missing prerequisite fails the start with
/// one line), then runs replication or polling, restarting after a failure (broker or database
/// away) from what was confirmed, with back-off.
/// </summary>
internal sealed partial class SourceAdapterService(
    IOptions<SourceOptions> options,
    [FromKeyedServices(DatabaseSettings.Source)] NpgsqlDataSource source,
    IServiceProvider services,
    IConfiguration configuration,
    BrokerTopology topology,
    IHostApplicationLifetime lifetime,
    ILogger<SourceAdapterService> logger) : BackgroundService
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await SourcePreflight.CheckAsync(source, options.Value, cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // the topology is declared and the bus started by hosted services registered after this one:
        // capture publishes only once the whole host has started
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        {
            try
            {
                await started.Task.WaitAsync(stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        var delay = TimeSpan.FromMilliseconds(500);
        var standby = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            var sessionStarted = DateTime.UtcNow;
            AdapterLease? lease = null;
            try
            {
                // one adapter per slot captures; the others wait as standbys (docs/adr/0004)
                lease = await AdapterLease.TryAcquire(DatabaseSettings.Require(configuration, DatabaseSettings.Source).ConnectionString, options.Value.SlotName, stoppingToken);
                if (lease is null)
                {
                    if (!standby)
                    {
                        LogStandby(options.Value.SlotName, options.Value.StandbyPollInterval.TotalSeconds);
                        standby = true;
                    }

                    await Task.Delay(options.Value.StandbyPollInterval, stoppingToken);
                    continue;
                }

                if (standby)
                {
                    LogTakingOver(options.Value.SlotName);
                    standby = false;
                }

                using var capture = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, lease.Lost);
                if (options.Value.Mode == CaptureMode.Polling)
                {
                    await services.GetRequiredService<PollingCapture>().Run(capture.Token);
                }
                else
                {
                    await services.GetRequiredService<ReplicationCapture>().Run(capture.Token);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (lease is not null && lease.Lost.IsCancellationRequested && e is OperationCanceledException or NpgsqlException)
            {
                // the lease's connection ended (source away, network cut): another adapter may capture now
                LogLeaseLost(options.Value.SlotName);
            }
            catch (SettingsException e)
            {
                LogCannotCapture(e.Message);
                Environment.ExitCode = 1;
                lifetime.StopApplication();
                return;
            }
            catch (Exception e)
            {
                // release the slot's lease during the back-off, so a standby may take over meanwhile
                if (lease is not null)
                {
                    await lease.DisposeAsync();
                    lease = null;
                }

                // nothing past the last confirmed position was acknowledged: the restart re-sends it
                if (DateTime.UtcNow - sessionStarted > TimeSpan.FromMinutes(1))
                {
                    delay = TimeSpan.FromMilliseconds(500);
                }

                if (MandatoryPublish.Unroutable(e) is { } unroutable)
                {
                    // one line, no stack: an operator reads what is missing and the adapter goes on trying
                    LogUnroutable(unroutable.Message, delay.TotalSeconds);
                }
                else
                {
                    LogRestarting(e, delay.TotalSeconds);
                }

                try
                {
                    await Task.Delay(delay, stoppingToken);
                    if (MandatoryPublish.Unroutable(e) is not null)
                    {
                        await Redeclare(stoppingToken);
                    }
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
            finally
            {
                if (lease is not null)
                {
                    await lease.DisposeAsync();
                }
            }
        }
    }

    /// <summary>Someone deleted a queue or binding under the running adapter: put the topology back before sending again.</summary>
    async Task Redeclare(CancellationToken cancel)
    {
        try
        {
            await topology.Declare(cancel);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogCannotRedeclare(e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Source capture stopped: {Problem}; nothing past the last confirmed position was acknowledged; declaring the topology again and restarting in {Seconds:0.0} s")]
    partial void LogUnroutable(string problem, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot declare the broker topology again: {Reason}")]
    partial void LogCannotRedeclare(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Standby: another adapter captures replication slot {Slot}; taking over when it stops (asking every {Seconds:0.#} s, Source__StandbyPollInterval)")]
    partial void LogStandby(string slot, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Taking over replication slot {Slot}: the adapter that captured it is gone; resuming from its last confirmed position")]
    partial void LogTakingOver(string slot);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the lease of replication slot {Slot} (its source connection ended); capture stopped, trying to take it again")]
    partial void LogLeaseLost(string slot);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Source adapter cannot capture: {Problem}")]
    partial void LogCannotCapture(string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Source capture stopped; restarting from the last confirmed position in {Seconds:0.0} s")]
    partial void LogRestarting(Exception exception, double seconds);
}
