using CampaignEvents.Contracts.Reconciliation;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.Reconciliation;
using CampaignEvents.Reconciliation.Reconciling;
using CampaignEvents.Reconciliation.Scheduling;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace CampaignEvents.Cli.Commands;

/// <summary>
/// What <c>reconcile</c> found: one report per campaign (outcome <c>error</c> for a campaign that
/// could not be reconciled), or, when not even the campaigns could be listed, why.
/// </summary>
sealed record ReconcileResult(IReadOnlyList<CampaignReconciled> Reports, string? Error = null)
{
    public int ExitCode => Error is not null ? Failures.Error : ReconcileCommand.ExitCode(Reports);
}

/// <summary>
/// The data of <c>reconcile</c>: starts a host with the reconcile role, lists the campaigns, asks
/// the reconciliation queue to reconcile each, and collects the reports. Prints nothing.
/// </summary>
static class ReconcileRun
{
    public static async Task<ReconcileResult> Execute(HostApplicationBuilder builder, ReconcileCommand.ReconcileRequest request, CancellationToken cancel)
    {
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        // a rule of the console provider outranks appsettings' Logging:LogLevel rules (which name no
        // provider), so stderr carries warnings and errors only, whatever Default says
        builder.Logging.AddFilter<ConsoleLoggerProvider>(null, LogLevel.Warning);
        using var host = builder.Build();
        await host.StartAsync(cancel);
        try
        {
            var options = host.Services.GetRequiredService<IOptions<ReconciliationOptions>>().Value;
            await using var scope = host.Services.CreateAsyncScope();
            IReadOnlyList<Guid> campaigns;
            try
            {
                campaigns = request.Campaign is { } one ? [one] : await scope.ServiceProvider.GetRequiredService<Campaigns>().All(request.Timeout, cancel);
            }
            catch (ReconciliationException e)
            {
                return new ReconcileResult([], e.Message);
            }

            var client = scope.ServiceProvider.GetRequiredService<IRequestClient<ReconcileCampaign>>();

            // each source answer may take the timeout; the settle window and a repair come on top
            var wait = (request.Timeout * 8) + (options.Settle * 6) + (request.Repair ? options.RepairTimeout : TimeSpan.Zero) + TimeSpan.FromSeconds(10);
            var reports = new List<CampaignReconciled>();
            foreach (var id in campaigns)
            {
                try
                {
                    var response = await client.Ask<ReconcileCampaign, CampaignReconciled>(
                        new ReconcileCampaign { CampaignId = id, Repair = request.Repair, SourceTimeout = request.Timeout }, wait, cancel);
                    reports.Add(Known(response.Message, id));
                }
                catch (RequestTimeoutException)
                {
                    reports.Add(new CampaignReconciled
                    {
                        RunId = Guid.Empty,
                        CampaignId = id,
                        Outcome = ReconciliationOutcomes.Error,
                        Error = $"no reconciliation consumer answered within {wait.TotalSeconds:0} s",
                        StartedAt = DateTimeOffset.UtcNow,
                        FinishedAt = DateTimeOffset.UtcNow,
                    });
                }
            }

            return new ReconcileResult(reports);
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>A report whose outcome is not one we know did not come from a finished run (a fault in disguise): an error.</summary>
    static CampaignReconciled Known(CampaignReconciled report, Guid campaign) =>
        report.Outcome is ReconciliationOutcomes.Consistent or ReconciliationOutcomes.Drift or ReconciliationOutcomes.Repaired or ReconciliationOutcomes.Error
            ? report
            : report with { CampaignId = campaign, Outcome = ReconciliationOutcomes.Error, Error = "the reconciliation consumer failed; see its log and the queue reconciliation_error" };
}
