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
public sealed class ScheduledReconciliation(IServiceScopeFactory scopes, IOptions<ReconciliationOptions> options, TimeProvider time, ReconciliationMetrics metrics, ILogger<ScheduledReconciliation> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (settings.Interval <= TimeSpan.Zero)
        {
            return;
        }

        logger.LogInformation("Reconciling every campaign every {Interval} (repair {Repair})", settings.Interval, settings.RepairOnSchedule ? "on" : "off");
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
                logger.LogWarning("Scheduled reconciliation skipped, trying again in {Interval}: {Reason}", settings.Interval, e.Message);
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
                    logger.LogWarning("Campaign {CampaignId}: scheduled reconciliation failed, trying again in {Interval}: {Reason}", campaign, settings.Interval, e.Message);
                }
            }
        }
    }
}
