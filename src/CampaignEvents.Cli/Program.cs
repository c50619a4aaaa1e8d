using System.CommandLine;
using CampaignEvents.Cli.Commands;
using CampaignEvents.Cli.Commands.Bench;

var root = new RootCommand("campaign-events: keeps campaign contacts in a local PostgreSQL in step with an external database through RabbitMQ.");
root.Subcommands.Add(MigrateCommand.Create());
root.Subcommands.Add(RunCommand.Create());
root.Subcommands.Add(ReconcileCommand.Create());
root.Subcommands.Add(new Command("bench", "Benchmarks that print their figures beside a reference measured in the same run.") { ReconcileBenchCommand.Create() });

return await root.Parse(args).InvokeAsync();
