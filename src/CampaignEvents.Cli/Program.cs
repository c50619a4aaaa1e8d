using System.CommandLine;
using CampaignEvents.Cli.Commands;

var root = new RootCommand("campaign-events: keeps campaign contacts in a local PostgreSQL in step with an external database through RabbitMQ.");
root.Subcommands.Add(MigrateCommand.Create());
root.Subcommands.Add(RunCommand.Create());
root.Subcommands.Add(ErrorsCommand.Create());
root.Subcommands.Add(new Command("bench", "Benchmarks that print figures beside their references.") { CampaignEvents.Cli.Commands.Bench.SyncBenchCommand.Create() });

return await root.Parse(args).InvokeAsync();
