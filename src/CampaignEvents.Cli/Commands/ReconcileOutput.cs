using System.Globalization;
using System.Text.Json;
using CampaignEvents.Contracts.Reconciliation;
using Spectre.Console;

namespace CampaignEvents.Cli.Commands;

/// <summary>Reports for people (a table on a terminal, plain lines when piped) or for machines (JSON).</summary>
static class ReconcileOutput
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>The reports on <paramref name="output"/>; on <paramref name="error"/> one line per campaign that could not be reconciled, or why none could.</summary>
    public static async Task Write(ReconcileResult result, bool json, bool many, bool terminal, TextWriter output, TextWriter error)
    {
        if (result.Error is not null)
        {
            await error.WriteLineAsync($"error: {result.Error}");
            return;
        }

        await Write(result.Reports, json, many, terminal, output);
        foreach (var failed in result.Reports.Where(r => r.Outcome == ReconciliationOutcomes.Error))
        {
            await error.WriteLineAsync($"error: campaign {failed.CampaignId}: {failed.Error}");
        }
    }

    static async Task Write(IReadOnlyList<CampaignReconciled> reports, bool json, bool many, bool terminal, TextWriter output)
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
