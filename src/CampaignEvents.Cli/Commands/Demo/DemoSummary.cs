using CampaignEvents.Contracts.Reconciliation;
using CampaignEvents.Infrastructure.Configuration;
using Spectre.Console;

namespace CampaignEvents.Cli.Commands.Demo;

static class DemoSummary
{
    /// <summary>The final check of a campaign, and how many keys a repair re-published before it (0: none needed).</summary>
    public sealed record Result(CampaignReconciled Report, int RepairedKeys);

    public static void Print(IReadOnlyList<DemoWorkload.Campaign> campaigns, IReadOnlyDictionary<Guid, Result> results, TimeSpan took, RabbitMqOptions rabbit)
    {
        if (Console.IsOutputRedirected)
        {
            // a log file or CI reads this: wide enough that no cell wraps
            AnsiConsole.Profile.Width = 200;
        }

        var table = new Table().Title("Demo summary").AddColumns("campaign", "source rows", "local rows", "rejected at source", "reconciliation", "reconcile time");
        foreach (var campaign in campaigns)
        {
            var r = results[campaign.Id].Report;
            var repaired = results[campaign.Id].RepairedKeys;
            var outcome = r.Outcome == ReconciliationOutcomes.Consistent
                ? repaired == 0 ? "[green]consistent[/]" : $"[yellow]consistent after repairing {repaired} keys[/]"
                : $"[red]{Markup.Escape(r.Outcome)}[/] ({r.Drift.Count} keys differ{(r.Error is null ? "" : ": " + Markup.Escape(r.Error))})";
            table.AddRow(
                Markup.Escape(campaign.Name),
                r.SourceContacts.ToString("N0", System.Globalization.CultureInfo.InvariantCulture),
                r.LocalContacts.ToString("N0", System.Globalization.CultureInfo.InvariantCulture),
                r.RejectedAtSource.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
                outcome,
                $"{(r.FinishedAt - r.StartedAt).TotalSeconds:0.0} s");
        }

        AnsiConsole.Write(table);
        foreach (var campaign in campaigns)
        {
            foreach (var row in results[campaign.Id].Report.RejectedAtSource)
            {
                AnsiConsole.MarkupLine($"  rejected at source, not synced: {Markup.Escape(campaign.Name)}: {Markup.Escape(row.RawPhone)} ({Markup.Escape(row.Reason)})");
            }
        }

        var consistent = results.Values.Count(r => r.Report.Outcome == ReconciliationOutcomes.Consistent);
        AnsiConsole.MarkupLine($"{consistent} of {campaigns.Count} campaigns consistent; took {took.TotalSeconds:0} s.");
        AnsiConsole.MarkupLine($"Dashboard: http://{Markup.Escape(rabbit.Host)}:{rabbit.ManagementPort}/ (the monitoring user, README: Identities and permissions). Status: campaign-events status");
    }
}
