using System.CommandLine;
using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Source.Configuration;
using CampaignEvents.Sync.Configuration;
using Microsoft.Extensions.Configuration;

namespace CampaignEvents.Cli.Commands.Status;

/// <summary>
/// One look at the whole pipeline: per campaign what the local database holds, the source's
/// replication slot and its lag, the queues operators watch, the last reconciliation. The data
/// comes from <see cref="DatabaseStatus"/> and <see cref="BrokerStatus"/> into a
/// <see cref="StatusReport"/>, which <see cref="StatusOutput"/> renders.
/// </summary>
static class StatusCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print the status as JSON for machines." };
        var command = new Command("status", "Show, per campaign, the local rows, the last applied version and time and the last reconciliation; the source's replication slot and its lag; the depth, consumers, leader and replicas of the queues and which broker node each process is connected to (from the RabbitMQ management API). Exit code 1 when a part does not answer.") { json };
        command.SetAction((parse, cancel) => Failures.Guard(async () =>
        {
            var report = await Collect(Settings.Load(), cancel);
            StatusOutput.Write(report, parse.GetValue(json));
            return report.Reachable ? 0 : 1;
        }));
        return command;
    }

    /// <summary>Asks every part; a part that does not answer is reported with its error, never thrown (but a missing local database setting is).</summary>
    public static async Task<StatusReport> Collect(IConfiguration configuration, CancellationToken cancel)
    {
        var local = DatabaseSettings.Require(configuration, DatabaseSettings.Contacts);
        var rabbit = configuration.RabbitMq();
        var source = configuration.Valid<SourceOptions>(SourceOptions.Section);
        var sync = configuration.Valid(SyncOptions.Section, new SyncOptionsValidation());

        var (campaigns, localError) = await DatabaseStatus.Campaigns(local, cancel);
        var (slot, sourceError) = await DatabaseStatus.Slot(configuration, source.SlotName, cancel);

        // the wait queues of contacts whose campaign is not there yet, one per back-off step (Sync:CampaignWaitIntervals)
        var (queues, brokerError) = await BrokerStatus.QueueDepths(rabbit, BrokerStatus.WatchedQueues(sync), cancel);
        var (connections, nodes) = brokerError is null ? await BrokerStatus.ConnectionsAndNodes(rabbit, cancel) : ([], []);
        return new StatusReport
        {
            LocalDatabase = DatabaseSettings.Describe(local),
            LocalError = localError,
            Campaigns = campaigns,
            Slot = slot,
            SourceError = sourceError,
            Broker = rabbit.Describe(),
            BrokerError = brokerError,
            Queues = queues,
            Connections = connections,
            Nodes = nodes,
        };
    }
}
