using System.CommandLine;
using CampaignEvents.Cli.Hosting;
using CampaignEvents.Contracts.Reconciliation;
using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Reconciliation;

namespace CampaignEvents.Cli.Commands;

/// <summary>
/// <c>campaign-events reconcile</c>: asks the reconciliation consumer (queue <c>reconciliation</c>;
/// this process hosts one too, so a running pipeline is not needed, only its source side) to
/// reconcile campaigns, prints the reports and exits 0 (consistent), 2 (drift remains) or 1 (error).
/// The run (<see cref="ReconcileRun"/>) and the printing (<see cref="ReconcileOutput"/>) are apart.
/// </summary>
internal static class ReconcileCommand
{
    public const int Consistent = 0;
    public const int DriftRemains = 2;

    public static Command Create()
    {
        var campaign = new Option<Guid?>("--campaign") { Description = "The campaign to reconcile." };
        var all = new Option<bool>("--all") { Description = "Reconcile every campaign the local database or the source holds." };
        var repair = new Option<bool>("--repair") { Description = "Have the source re-publish the differing keys through the event path, then check again." };
        var json = new Option<bool>("--json") { Description = "Print the reports as JSON (one object, or an array with --all)." };
        var timeout = new Option<double>("--timeout")
        {
            Description = "Seconds to wait for each answer of the source side.",
            DefaultValueFactory = _ => 30,
        };
        var command = new Command(
            "reconcile",
            "Compare campaigns' local contacts with the source's by bucketed digests and report the exact keys missing locally, extra locally or different, and the source rows rejected for their phone. Exit code 0: consistent, 2: drift remains, 1: error.")
        {
            campaign, all, repair, json, timeout,
        };
        command.SetAction((parse, cancel) => Failures.Guard(() => Run(
            new ReconcileRequest(parse.GetValue(campaign), parse.GetValue(all), parse.GetValue(repair), parse.GetValue(json), TimeSpan.FromSeconds(parse.GetValue(timeout))),
            overrides: null,
            Console.Out,
            Console.Error,
            terminal: !Console.IsOutputRedirected,
            cancel)));
        return command;
    }

    /// <summary>What the options asked for.</summary>
    public sealed record ReconcileRequest(Guid? Campaign, bool All, bool Repair, bool Json, TimeSpan Timeout);

    /// <summary>Runs the command; tests call it with their own configuration overrides and writers.</summary>
    public static async Task<int> Run(
        ReconcileRequest request,
        IDictionary<string, string?>? overrides,
        TextWriter output,
        TextWriter error,
        bool terminal,
        CancellationToken cancel)
    {
        if (request.Campaign is null == !request.All)
        {
            await error.WriteLineAsync("error: give either --campaign <id> or --all");
            return Failures.Error;
        }

        if (request.Timeout <= TimeSpan.Zero)
        {
            await error.WriteLineAsync("error: --timeout must be a positive number of seconds");
            return Failures.Error;
        }

        var settings = new Dictionary<string, string?>(overrides ?? new Dictionary<string, string?>())
        {
            // this process answers requests, it does not run the schedule
            [$"{ReconciliationOptions.Section}:{nameof(ReconciliationOptions.Interval)}"] = "00:00:00",
        };
        var builder = PipelineHost.CreateBuilder([Role.Reconcile], settings);
        try
        {
            await Preflight.Check(builder.Configuration, [Role.Reconcile], cancel);
        }
        catch (SettingsException e)
        {
            await error.WriteLineAsync($"error: {e.Message}");
            return Failures.Error;
        }

        var result = await ReconcileRun.Execute(builder, request, cancel);
        await ReconcileOutput.Write(result, request.Json, request.All, terminal, output, error);
        return result.ExitCode;
    }

    /// <summary>1 when a campaign could not be reconciled, else 2 when drift remains, else 0 (consistent or repaired).</summary>
    public static int ExitCode(IEnumerable<CampaignReconciled> reports)
    {
        var outcomes = reports.Select(r => r.Outcome).ToList();
        return outcomes.Contains(ReconciliationOutcomes.Error) ? Failures.Error
            : outcomes.Contains(ReconciliationOutcomes.Drift) ? DriftRemains
            : Consistent;
    }
}
