using System.CommandLine;
using System.Diagnostics;
using CampaignEvents.Cli.Hosting;
using CampaignEvents.Contracts.Reconciliation;
using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Infrastructure.Database;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.Source.Configuration;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Spectre.Console;

namespace CampaignEvents.Cli.Commands.Demo;

/// <summary>
/// The main job as a new user meets it: a realistic external database, the whole pipeline in one
/// process, changes while it syncs, progress, and a per-campaign summary that says whether local
/// equals remote.
/// </summary>
static class DemoCommand
{
    /// <summary>
    /// The owner of the local tables, for the demo's migrate and reset (ConnectionStrings:ContactsOwner);
    /// without it, ConnectionStrings:Contacts. The pipeline itself runs as ConnectionStrings:Contacts.
    /// </summary>
    public const string ContactsOwner = "ContactsOwner";

    /// <summary>
    /// The owner of the demo's source tables, which the demo creates, fills and changes as the
    /// external system would (ConnectionStrings:SourceOwner); without it, ConnectionStrings:Source.
    /// </summary>
    public const string SourceOwner = "SourceOwner";

    public static Command Create()
    {
        var contacts = new Option<int>("--contacts") { Description = "Contacts to create in the demo external database.", DefaultValueFactory = _ => 100_000 };
        var campaigns = new Option<int>("--campaigns") { Description = "Campaigns they are spread over.", DefaultValueFactory = _ => 5 };
        var invalid = new Option<int>("--invalid-per-campaign") { Description = "Contacts per campaign whose phone number cannot be normalized (reported as rejected at source).", DefaultValueFactory = _ => 3 };
        var churn = new Option<int>("--churn-seconds") { Description = "For how long a slice of the source keeps changing while the pipeline syncs.", DefaultValueFactory = _ => 15 };
        var timeout = new Option<int>("--timeout-seconds") { Description = "Give up (exit 1) when the demo has not converged by then.", DefaultValueFactory = _ => 900 };
        var command = new Command("demo", "Reset the demo databases (ConnectionStrings:Source and :Contacts, their contacts are replaced), fill the external one with a realistic workload, run the whole pipeline (source adapter, sync consumers, reconciliation) while a slice of the source keeps changing, show progress, and end with a per-campaign summary. Exit code 0 only when every campaign reconciled consistent.")
        {
            contacts, campaigns, invalid, churn, timeout,
        };
        command.SetAction((parse, cancel) => Failures.Guard(() => Run(
            new DemoPlan(parse.GetValue(contacts), parse.GetValue(campaigns), parse.GetValue(invalid), TimeSpan.FromSeconds(parse.GetValue(churn)), TimeSpan.FromSeconds(parse.GetValue(timeout))),
            cancel)));
        return command;
    }

    sealed record DemoPlan(int Contacts, int Campaigns, int InvalidPerCampaign, TimeSpan Churn, TimeSpan Timeout);

    static async Task<int> Run(DemoPlan plan, CancellationToken cancel)
    {
        if (plan.Contacts < plan.Campaigns || plan.Campaigns < 1)
        {
            throw new SettingsException("option --contacts must be at least --campaigns, and --campaigns at least 1");
        }

        var started = Stopwatch.StartNew();
        var overrides = new Dictionary<string, string?>
        {
            // the demo reconciles explicitly at the end; the schedule shows its one line per campaign meanwhile
            ["Reconciliation:Interval"] = "00:00:30",
            // the progress and the summary tell the story; only trouble is logged
            ["Logging:LogLevel:Default"] = "Warning",
            // its rejected rows are listed per campaign in the summary instead of one warning each
            ["Logging:LogLevel:CampaignEvents.Source.Capture"] = "Error",
        };
        var builder = PipelineHost.CreateBuilder(PipelineHost.AllRoles, overrides);
        await Preflight.Check(builder.Configuration, PipelineHost.AllRoles, cancel, sourceShape: false);
        // the pipeline runs as its own logins; the demo's world (migrate, reset, the source's rows and
        // their changes, progress) as the tables' owners (docs/adr/0015)
        var source = Owner(builder.Configuration, SourceOwner, DatabaseSettings.Source);
        var local = Owner(builder.Configuration, ContactsOwner, DatabaseSettings.Contacts);
        var sourceOptions = builder.Configuration.Valid<SourceOptions>(SourceOptions.Section);
        var rabbit = builder.Configuration.RabbitMq();

        Say($"Resetting the demo databases ({DatabaseSettings.Describe(source)} and {DatabaseSettings.Describe(local)})");
        Migrator.Apply(local);
        await using var sourceDb = NpgsqlDataSource.Create(source);
        await using var localDb = NpgsqlDataSource.Create(local);
        await DemoReset.Run(sourceDb, localDb, sourceOptions, rabbit, cancel);

        Say($"Filling the external database: {plan.Contacts:N0} contacts over {plan.Campaigns} campaigns, {plan.InvalidPerCampaign} invalid phone numbers per campaign");
        var workload = new DemoWorkload(sourceDb, seed: 20261129);
        var campaigns = await workload.Fill(plan.Campaigns, plan.Contacts, plan.InvalidPerCampaign, cancel);
        var invalidTotal = campaigns.Sum(c => c.Invalid);

        using var host = builder.Build();
        await host.StartAsync(cancel);
        Say("Pipeline running: source adapter (logical replication), sync consumers, reconciliation");
        try
        {
            using var churning = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            var churned = 0;
            var churn = Task.Run(async () =>
            {
                var until = DateTime.UtcNow + plan.Churn;
                while (DateTime.UtcNow < until && !churning.IsCancellationRequested)
                {
                    churned += await workload.Churn(campaigns, rows: 40, churning.Token);
                    await Task.Delay(200, churning.Token);
                }
            }, churning.Token);

            var progress = new DemoProgress(sourceDb, localDb, sourceOptions.SlotName, invalidTotal);
            var synced = await progress.Watch(churn, plan.Timeout - started.Elapsed, cancel);
            await churning.CancelAsync();
            try
            {
                await churn;
            }
            catch (OperationCanceledException)
            {
            }
            catch (NpgsqlException e)
            {
                throw Failures.Database(DatabaseSettings.Source, source, e);
            }

            if (!synced)
            {
                await Console.Error.WriteLineAsync($"error: the local database did not catch up within {plan.Timeout.TotalSeconds:0} s (see campaign-events status)");
                return Failures.Error;
            }

            Say($"Caught up ({churned:N0} source rows changed while syncing). Reconciling every campaign…");
            var results = await ReconcileAll(host.Services, campaigns, cancel);
            DemoSummary.Print(campaigns, results, started.Elapsed, rabbit);
            return results.Values.All(r => r.Report.Outcome == ReconciliationOutcomes.Consistent) ? 0 : 2;
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
            await DemoReset.DropSlot(sourceDb, sourceOptions.SlotName);
        }
    }

    /// <summary>
    /// A plain check of every campaign; only a campaign with drift is repaired and checked again,
    /// so the summary says what the pipeline did on its own and what needed a repair.
    /// </summary>
    static async Task<Dictionary<Guid, DemoSummary.Result>> ReconcileAll(IServiceProvider services, IReadOnlyList<DemoWorkload.Campaign> campaigns, CancellationToken cancel)
    {
        var client = services.GetRequiredService<IRequestClient<ReconcileCampaign>>();
        var results = new Dictionary<Guid, DemoSummary.Result>();
        foreach (var campaign in campaigns)
        {
            var check = (await client.Ask<ReconcileCampaign, CampaignReconciled>(new ReconcileCampaign { CampaignId = campaign.Id }, TimeSpan.FromMinutes(5), cancel)).Message;
            if (check.Outcome == ReconciliationOutcomes.Drift)
            {
                var repair = (await client.Ask<ReconcileCampaign, CampaignReconciled>(new ReconcileCampaign { CampaignId = campaign.Id, Repair = true }, TimeSpan.FromMinutes(5), cancel)).Message;
                var after = (await client.Ask<ReconcileCampaign, CampaignReconciled>(new ReconcileCampaign { CampaignId = campaign.Id }, TimeSpan.FromMinutes(5), cancel)).Message;
                results[campaign.Id] = new DemoSummary.Result(after, RepairedKeys: repair.Repaired.Count);
            }
            else
            {
                results[campaign.Id] = new DemoSummary.Result(check, RepairedKeys: 0);
            }
        }

        return results;
    }

    static NpgsqlConnectionStringBuilder Owner(IConfiguration configuration, string owner, string fallback) =>
        DatabaseSettings.Require(configuration, string.IsNullOrWhiteSpace(configuration.GetConnectionString(owner)) ? fallback : owner);

    static void Say(string line) => AnsiConsole.MarkupLine($"[grey]{DateTime.Now:HH:mm:ss}[/] {Markup.Escape(line)}");
}
