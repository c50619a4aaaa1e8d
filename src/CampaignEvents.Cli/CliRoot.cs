using System.CommandLine;
using CampaignEvents.Cli.Commands;
using CampaignEvents.Cli.Commands.Publish;
using CampaignEvents.Cli.Commands.Status;

namespace CampaignEvents.Cli;

/// <summary>Every command of campaign-events (the tests parse docker-compose.yml's commands with it).</summary>
internal static class CliRoot
{
    public static RootCommand Create()
    {
        var root = new RootCommand("campaign-events: keeps campaign contacts in a local PostgreSQL in step with an external database through RabbitMQ.");
        root.Subcommands.Add(Commands.Demo.DemoCommand.Create());
        root.Subcommands.Add(MigrateCommand.Create());
        root.Subcommands.Add(RunCommand.Create());
        root.Subcommands.Add(HealthCommand.Create());
        root.Subcommands.Add(PublishCommand.Create());
        root.Subcommands.Add(StatusCommand.Create());
        root.Subcommands.Add(ErrorsCommand.Create());
        root.Subcommands.Add(ReconcileCommand.Create());
        root.Subcommands.Add(Commands.RebaseVersions.RebaseVersionsCommand.Create());
        return root;
    }
}
