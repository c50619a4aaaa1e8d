using System.CommandLine;
using CampaignEvents.Cli.Commands;
using CampaignEvents.Cli.Commands.Publish;
using CampaignEvents.Cli.Commands.Status;

var root = new RootCommand("campaign-events: keeps campaign contacts in a local PostgreSQL in step with an external database through RabbitMQ.");
root.Subcommands.Add(MigrateCommand.Create());
root.Subcommands.Add(RunCommand.Create());
root.Subcommands.Add(PublishCommand.Create());
root.Subcommands.Add(StatusCommand.Create());

return await root.Parse(args).InvokeAsync();
