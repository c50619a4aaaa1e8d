using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Source.Capture;
using CampaignEvents.Source.Configuration;
using CampaignEvents.Source.Polling;
using CampaignEvents.Source.Preflight;
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
public sealed partial class SourceAdapterService(
    IOptions<SourceOptions> options,
    [FromKeyedServices(DatabaseSettings.Source)] NpgsqlDataSource source,
    IServiceProvider services,
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
        var delay = TimeSpan.FromMilliseconds(500);
        while (!stoppingToken.IsCancellationRequested)
        {
            var started = DateTime.UtcNow;
            try
            {
                if (options.Value.Mode == CaptureMode.Polling)
                {
                    await services.GetRequiredService<PollingCapture>().Run(stoppingToken);
                }
                else
                {
                    await services.GetRequiredService<ReplicationCapture>().Run(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
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
                // nothing past the last confirmed position was acknowledged: the restart re-sends it
                if (DateTime.UtcNow - started > TimeSpan.FromMinutes(1))
                {
                    delay = TimeSpan.FromMilliseconds(500);
                }

                LogRestarting(e, delay.TotalSeconds);
                try
                {
                    await Task.Delay(delay, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "Source adapter cannot capture: {Problem}")]
    partial void LogCannotCapture(string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Source capture stopped; restarting from the last confirmed position in {Seconds:0.0} s")]
    partial void LogRestarting(Exception exception, double seconds);
}
