using System.Text.Json;
using CampaignEvents.Source.SlotHealth;
using Spectre.Console;

namespace CampaignEvents.Cli.Commands.Status;

/// <summary>The rendering of <c>status</c>: JSON for machines (<c>--json</c>), else for people.</summary>
static class StatusOutput
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static void Write(StatusReport report, bool json)
    {
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(report, Json));
        }
        else
        {
            Print(report, CommandOutput.Standard());
        }
    }

    /// <summary>For people: tables on a terminal, one line per row when piped (<see cref="CommandOutput"/>).</summary>
    static void Print(StatusReport report, CommandOutput output)
    {
        var culture = System.Globalization.CultureInfo.InvariantCulture;
        output.Line($"[bold]Local database[/] {Markup.Escape(report.LocalDatabase)}");
        if (report.LocalError is not null)
        {
            output.Line($"  [red]unreachable:[/] {Markup.Escape(report.LocalError)}");
        }
        else if (report.Campaigns.Count == 0)
        {
            output.Line("  no campaigns yet");
        }
        else
        {
            output.Table(
                ["campaign", "name", "local rows", "tombstones", "last version", "last applied", "last reconciliation"],
                report.Campaigns.Select(c => (IReadOnlyList<string>)
                [
                    c.Id.ToString(),
                    c.Name,
                    c.LocalRows.ToString("N0", culture),
                    c.Tombstones.ToString("N0", culture),
                    c.LastVersion?.ToString(culture) ?? "-",
                    c.LastAppliedAt?.ToString("u", culture) ?? "-",
                    c.LastReconciliation is null ? "never" : string.Create(culture, $"{c.LastReconciliation} at {c.LastReconciledAt:u}"),
                ]));
        }

        output.Line("[bold]Source replication slot[/]");
        if (report.SourceError is not null)
        {
            output.Line($"  [red]unreachable:[/] {Markup.Escape(report.SourceError)}");
        }
        else if (report.Slot is { Exists: false } missing)
        {
            output.Line($"  {Markup.Escape(missing.Name)}: not created yet (the source adapter creates it on first start)");
        }
        else if (report.Slot is { } slot)
        {
            var walStatus = slot.WalStatus switch
            {
                "lost" => "[red]lost[/]",
                "unreserved" => "[yellow]unreserved[/]",
                var w => Markup.Escape(w ?? "?"),
            };
            var time = slot.FlushLagSeconds is { } seconds ? string.Create(culture, $", flush lag {seconds:0.0} s") : "";
            var safe = slot.SafeWalSizeBytes is { } bytes ? string.Create(culture, $", {bytes:N0} bytes of WAL before max_slot_wal_keep_size") : "";
            output.Line(string.Create(culture, $"  {Markup.Escape(slot.Name)}: {(slot.Active ? "streaming" : "[yellow]no adapter connected[/]")}, wal_status {walStatus}, lag {slot.LagBytes:N0} bytes of WAL{time}{safe}, confirmed up to {slot.ConfirmedFlushLsn}"));
            if (slot.WalStatus == "lost")
            {
                output.Line($"  [red]{Markup.Escape(SlotContinuity.Refusal(new SlotObservation(slot.Name, true, false, "lost", null, null, null, null, null, null)))}[/]");
            }
        }

        output.Line($"[bold]Queues[/] {Markup.Escape(report.Broker)}");
        if (report.BrokerError is not null)
        {
            output.Line($"  [red]unreachable:[/] {Markup.Escape(report.BrokerError)}");
            return;
        }

        output.Table(
            ["queue", "ready", "unacked", "consumers", "leader", "replicas"],
            report.Queues.Select(q => (IReadOnlyList<string>)
            [
                q.Name,
                q.Exists ? q.Ready.ToString("N0", culture) : "(not declared yet)",
                q.Unacknowledged.ToString("N0", culture),
                q.Consumers.ToString(culture),
                q.Leader ?? "-",
                Replicas(q),
            ]));
        if (report.Nodes.Count > 1)
        {
            output.Line($"[bold]Cluster nodes[/] {Markup.Escape(string.Join(", ", report.Nodes.Select(n => n.Running ? n.Name : $"{n.Name} (down)")))}");
        }

        output.Line("[bold]Connections[/] (process → broker node)");
        if (report.Connections.Count == 0)
        {
            output.Line("  none");
        }

        foreach (var c in report.Connections)
        {
            output.Line($"  {Markup.Escape(c.Name)} → {Markup.Escape(c.Node)}");
        }
    }

    /// <summary>"3 of 3 online", naming the members that are not (the full lists are in --json).</summary>
    static string Replicas(QueueStatus q)
    {
        if (q.Members is null)
        {
            return "-";
        }

        var offline = q.Members.Except(q.Online ?? []).ToList();
        return $"{q.Members.Count - offline.Count} of {q.Members.Count} online" + (offline.Count > 0 ? $" ({string.Join(", ", offline)} down)" : "");
    }
}
