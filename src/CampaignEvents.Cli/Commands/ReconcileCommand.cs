using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using CampaignEvents.Cli.Hosting;
using CampaignEvents.Contracts.Reconciliation;
using CampaignEvents.Infrastructure.Configuration;
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
using Spectre.Console;

namespace CampaignEvents.Cli.Commands;

/// <summary>
/// <c>campaign-events reconcile</c>: asks the reconciliation consumer (queue <c>reconciliation</c>;
/// this process hosts one too, so a running pipeline is not needed, only its source side) to
/// reconcile campaigns, prints the reports and exits 0 (consistent), 2 (drift remains) or 1 (error).
/// </summary>
public static class ReconcileCommand
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
                await error.WriteLineAsync($"error: {e.Message}");
                return Failures.Error;
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

            await ReconcileOutput.Write(reports, request.Json, request.All, terminal, output);
            foreach (var failed in reports.Where(r => r.Outcome == ReconciliationOutcomes.Error))
            {
                await error.WriteLineAsync($"error: campaign {failed.CampaignId}: {failed.Error}");
            }

            return ExitCode(reports);
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

    public static int ExitCode(IEnumerable<CampaignReconciled> reports)
    {
        var outcomes = reports.Select(r => r.Outcome).ToList();
        return outcomes.Contains(ReconciliationOutcomes.Error) ? Failures.Error
            : outcomes.Contains(ReconciliationOutcomes.Drift) ? DriftRemains
            : Consistent;
    }
}

/// <summary>Reports for people (a table on a terminal, plain lines when piped) or for machines (JSON).</summary>
public static class ReconcileOutput
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static async Task Write(IReadOnlyList<CampaignReconciled> reports, bool json, bool many, bool terminal, TextWriter output)
    {
        if (json)
        {
            await output.WriteLineAsync(many ? JsonSerializer.Serialize(reports, Json) : JsonSerializer.Serialize(reports.Single(), Json));
            return;
        }

        foreach (var report in reports.Where(r => r.Outcome != ReconciliationOutcomes.Error))
        {
            if (terminal)
            {
                WriteTable(report, output);
            }
            else
            {
                await output.WriteAsync(Plain(report));
            }
        }
    }

    public static string Summary(CampaignReconciled r)
    {
        var text = $"campaign {r.CampaignId}: {r.Outcome}";
        if (r.Outcome == ReconciliationOutcomes.Error)
        {
            return $"{text}: {r.Error}";
        }

        text += $" ({Count(r, DriftKinds.MissingLocally)} missing locally, {Count(r, DriftKinds.ExtraLocally)} extra locally, {Count(r, DriftKinds.Different)} different, {r.RejectedAtSource.Count} rejected at source)";
        text += string.Create(CultureInfo.InvariantCulture, $"; source {r.SourceContacts} contacts, local {r.LocalContacts}; {r.BucketsDiffering} of {r.BucketsCompared} buckets differed; {r.SettledInFlight} keys in flight settled");
        if (r.StillChanging > 0)
        {
            text += $", {r.StillChanging} still changing (not reported)";
        }

        if (r.RepairRequested)
        {
            text += r.Repaired.Count == 0
                ? "; nothing to repair"
                : $"; repaired {r.Repaired.Count} keys, {(r.Converged == true ? "converged" : "NOT converged")}";
        }

        text += string.Create(CultureInfo.InvariantCulture, $"; {(r.FinishedAt - r.StartedAt).TotalSeconds:0.00} s");
        return text;
    }

    public static string Plain(CampaignReconciled r)
    {
        var lines = new List<string> { Summary(r) };
        lines.AddRange(r.Drift.Select(d => Tabbed(d.Kind, d.PhoneNumber, $"local v{Show(d.LocalVersion)} {d.LocalMetadata ?? "-"}", $"source v{Show(d.SourceVersion)} {d.SourceMetadata ?? "-"}")));
        lines.AddRange(r.Repaired.Select(d => Tabbed("repaired", d.PhoneNumber, d.Kind)));
        lines.AddRange(r.RejectedAtSource.Select(x => Tabbed("rejected_at_source", x.RawPhone, x.Reason)));
        return string.Join('\n', lines) + "\n";
    }

    /// <summary>One line per key, fields separated by tabs; a tab or line break inside a field (a raw source phone) is written as an escape.</summary>
    static string Tabbed(params string[] fields) => string.Join('\t', fields.Select(CommandOutput.OneLine));

    static void WriteTable(CampaignReconciled r, TextWriter output)
    {
        var console = new CommandOutput(output, terminal: true);
        var color = r.Outcome switch
        {
            ReconciliationOutcomes.Consistent or ReconciliationOutcomes.Repaired => "green",
            _ => "red",
        };
        console.Line($"[{color}]{Markup.Escape(Summary(r))}[/]");
        if (r.Drift.Count + r.Repaired.Count + r.RejectedAtSource.Count == 0)
        {
            return;
        }

        console.Table(
            ["kind", "phone", "local version", "local metadata", "source version", "source metadata"],
            [
                .. r.Drift.Select(d => (IReadOnlyList<string>)[d.Kind, d.PhoneNumber, Show(d.LocalVersion), Cut(d.LocalMetadata), Show(d.SourceVersion), Cut(d.SourceMetadata)]),
                .. r.Repaired.Select(d => (IReadOnlyList<string>)["repaired", d.PhoneNumber, Show(d.LocalVersion), Cut(d.LocalMetadata), Show(d.SourceVersion), $"was {d.Kind}"]),
                .. r.RejectedAtSource.Select(x => (IReadOnlyList<string>)["rejected at source", CommandOutput.OneLine(x.RawPhone), "", "", "", x.Reason]),
            ]);
    }

    static int Count(CampaignReconciled r, string kind) => r.Drift.Count(d => d.Kind == kind);

    static string Show(long? version) => version?.ToString(CultureInfo.InvariantCulture) ?? "-";

    static string Cut(string? text) => text is null ? "-" : text.Length <= 40 ? text : text[..39] + "…";
}
