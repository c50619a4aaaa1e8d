using CampaignEvents.Reconciliation.Reconciling;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CampaignEvents.Reconciliation.Scheduling;

/// <summary>
/// With <c>Reconciliation:Interval</c> above zero, reconciles every campaign on that interval
/// (repairing when <c>Reconciliation:RepairOnSchedule</c>), one log line per campaign, and
/// publishes each report like the command does. A failure of one round (a database or the broker
/// away, any error) is logged in one line and counted, and the next interval tries again: a
/// reconciliation must never stop the process, whose other roles keep syncing.
/// </summary>
internal sealed partial class ScheduledReconciliation(IServiceScopeFactory scopes, IOptions<ReconciliationOptions> options, TimeProvider time, ReconciliationMetrics metrics, ILogger<ScheduledReconciliation> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (settings.Interval <= TimeSpan.Zero)
        {
            return;
        }

        LogScheduled(settings.Interval, settings.RepairOnSchedule ? "on" : "off");
        using var timer = new PeriodicTimer(settings.Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            await using var scope = scopes.CreateAsyncScope();
            IReadOnlyList<Guid> campaigns;
            try
            {
                campaigns = await scope.ServiceProvider.GetRequiredService<Campaigns>().All(settings.SourceTimeout, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                metrics.ScheduledFailure();
                LogRoundSkipped(settings.Interval, e.Message);
                continue;
            }

            var reconciler = scope.ServiceProvider.GetRequiredService<Reconciler>();
            var publish = scope.ServiceProvider.GetRequiredService<IPublishEndpoint>();
            foreach (var campaign in campaigns)
            {
                try
                {
                    var report = await reconciler.Reconcile(campaign, settings.RepairOnSchedule, null, stoppingToken);
                    ReconciliationLog.Write(logger, report);
                    await publish.Publish(report, stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    metrics.ScheduledFailure();
                    LogCampaignFailed(campaign, settings.Interval, e.Message);
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Reconciling every campaign every {Interval} (repair {Repair})")]
    partial void LogScheduled(TimeSpan interval, string repair);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Scheduled reconciliation skipped, trying again in {Interval}: {Reason}")]
    partial void LogRoundSkipped(TimeSpan interval, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Campaign {CampaignId}: scheduled reconciliation failed, trying again in {Interval}: {Reason}")]
    partial void LogCampaignFailed(Guid campaignId, TimeSpan interval, string reason);
}
