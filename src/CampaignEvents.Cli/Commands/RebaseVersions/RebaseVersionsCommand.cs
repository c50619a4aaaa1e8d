using System.CommandLine;
using System.Globalization;
using CampaignEvents.Cli.Commands.Status;
using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Source.Configuration;
using CampaignEvents.Source.Continuity;
using CampaignEvents.Sync.Configuration;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace CampaignEvents.Cli.Commands.RebaseVersions;

/// <summary>
/// <c>campaign-events rebase-versions --campaign &lt;id&gt; | --all</c>: the recovery when the source's
/// version domain changed (a restored, promoted or replaced source, or another capture mode;
/// docs/adr/0004). Sets the local versions of the campaigns to -1 and removes their tombstones,
/// then records the new domain once no local version is above it. Exit 0: recorded, the adapter
/// may start (and takes a new snapshot); 2: campaigns still hold versions above the new domain; 1: error.
/// </summary>
static class RebaseVersionsCommand
{
    const int NotAccepted = 2;

    public static Command Create()
    {
        var campaigns = new Option<Guid[]>("--campaign")
        {
            Description = "A campaign to re-base (repeat for several).",
            AllowMultipleArgumentsPerToken = true,
        };
        var all = new Option<bool>("--all") { Description = "Re-base every local campaign." };
        var ignoreQueues = new Option<bool>("--ignore-queues") { Description = "Re-base even though the queues still hold messages (they may carry versions of the old source, which would win afterwards)." };
        var command = new Command(
            "rebase-versions",
            "After the source was restored, promoted, replaced or its capture mode changed: set the local versions of the campaigns below the new source's, so its snapshot and changes win, and record the new version domain. Stop the source adapter and let the sync consumer drain the queues first. Exit code 0: recorded, 2: campaigns still hold versions above it, 1: error.")
        {
            campaigns, all, ignoreQueues,
        };
        command.SetAction((parse, cancel) => Failures.Guard(() => Run(
            Settings.Load(), parse.GetValue(campaigns) ?? [], parse.GetValue(all), parse.GetValue(ignoreQueues), Console.Out, cancel)));
        return command;
    }

    public static async Task<int> Run(IConfiguration configuration, Guid[] campaigns, bool all, bool ignoreQueues, TextWriter output, CancellationToken cancel)
    {
        if (campaigns.Length == 0 == !all)
        {
            throw new SettingsException("give either --campaign <id> (one or more) or --all");
        }

        var options = configuration.Valid<SourceOptions>(SourceOptions.Section);
        if (!ignoreQueues)
        {
            await RequireDrainedQueues(configuration, cancel);
        }

        var localTarget = DatabaseSettings.Require(configuration, DatabaseSettings.Contacts);
        var sourceTarget = DatabaseSettings.Require(configuration, DatabaseSettings.Source);
        await using var local = NpgsqlDataSource.Create(localTarget);
        await using var source = NpgsqlDataSource.Create(sourceTarget);
        await Reachable(source, DatabaseSettings.Source, sourceTarget, cancel);
        await Reachable(local, DatabaseSettings.Contacts, localTarget, cancel);
        RebaseOutcome outcome;
        try
        {
            outcome = await VersionRebase.Run(local, source, options.Mode, all ? null : campaigns, cancel);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            throw new SettingsException($"the local database of ConnectionStrings:Contacts is not migrated ({e.MessageText}): run campaign-events migrate");
        }

        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"re-based {outcome.Campaigns} campaigns: {outcome.Contacts:N0} contacts set to version -1, {outcome.Tombstones:N0} tombstones removed"));
        if (!outcome.Accepted)
        {
            await output.WriteLineAsync(
                $"version domain not recorded: campaigns still hold versions above {outcome.Current}: {string.Join(", ", outcome.Above)}; re-base them too (--campaign …) or use --all");
            return NotAccepted;
        }

        await output.WriteLineAsync(
            $"recorded version domain {outcome.Current}{(outcome.Recorded is { } was && was != outcome.Current ? $" (was {was})" : "")}; the source adapter takes a new snapshot at its next start. Then run campaign-events reconcile --all --repair to delete the rows the source no longer holds");
        return 0;
    }

    static async Task Reachable(NpgsqlDataSource database, string setting, NpgsqlConnectionStringBuilder target, CancellationToken cancel)
    {
        try
        {
            await using var connection = await database.OpenConnectionAsync(cancel);
        }
        catch (NpgsqlException e)
        {
            throw Failures.Database(setting, target, e);
        }
    }

    /// <summary>
    /// A message of the old source still queued would carry a version above every re-based row and
    /// win over the new source's snapshot: the queues must be empty first.
    /// </summary>
    static async Task RequireDrainedQueues(IConfiguration configuration, CancellationToken cancel)
    {
        var rabbit = configuration.RabbitMq();
        var sync = configuration.Valid(SyncOptions.Section, new SyncOptionsValidation());
        var (queues, error) = await BrokerStatus.QueueDepths(rabbit, BrokerStatus.WatchedQueues(sync), cancel);
        if (error is not null)
        {
            throw new SettingsException($"cannot check that the queues are drained: {error}; pass --ignore-queues once you know they are");
        }

        if (queues.FirstOrDefault(q => q.Ready + q.Unacknowledged > 0) is { } busy)
        {
            throw new SettingsException(
                $"queue {busy.Name} holds {busy.Ready + busy.Unacknowledged} messages that may carry versions of the old source and would win over the re-based rows: stop the source adapter and let the sync consumer drain it (replay or purge an error queue) before rebasing, or pass --ignore-queues");
        }
    }
}
