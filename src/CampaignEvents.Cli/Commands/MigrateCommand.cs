using System.CommandLine;
using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Infrastructure.Database;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.Sync.Configuration;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace CampaignEvents.Cli.Commands;

static class MigrateCommand
{
    public static Command Create()
    {
        var topology = new Option<bool>("--topology")
        {
            Description = "Also declare the broker topology (exchanges, quorum queues, bindings, error and wait queues) in RabbitMq:VirtualHost, so events published before any role runs are kept. Safe to run again.",
        };
        var command = new Command("migrate", "Apply the database migrations (database/migrations/NNN_name.sql) to the local database of ConnectionStrings:Contacts, in order, each once. Safe to run again.") { topology };
        command.SetAction((parse, cancel) => Failures.Guard(async () =>
        {
            // every setting the command needs is checked before the database is changed
            var configuration = Settings.Load();
            var broker = parse.GetValue(topology) ? (configuration.RabbitMq(), configuration.Valid(SyncOptions.Section, new SyncOptionsValidation())) : default;
            var code = Run(configuration);
            if (parse.GetValue(topology))
            {
                await DeclareTopology(broker.Item1, broker.Item2, cancel);
            }

            return code;
        }));
        return command;
    }

    static async Task DeclareTopology(RabbitMqOptions rabbit, SyncOptions sync, CancellationToken cancel)
    {
        var queues = await new BrokerTopology(rabbit, sync.CampaignWaits).Declare(cancel);
        Console.WriteLine($"{rabbit.Describe()}: topology declared ({queues.Count} queues with their exchanges and bindings: {string.Join(", ", queues)}).");
    }

    static int Run(IConfiguration configuration)
    {
        var target = DatabaseSettings.Require(configuration, DatabaseSettings.Contacts);
        IReadOnlyList<string> applied;
        try
        {
            // DbUp reports a refused connection as a failed script: check the connection first.
            using (var connection = new NpgsqlConnection(target.ConnectionString))
            {
                connection.Open();
            }

            applied = Migrator.Apply(target);
        }
        catch (NpgsqlException e)
        {
            throw Failures.Database(DatabaseSettings.Contacts, target, e);
        }

        if (applied.Count == 0)
        {
            Console.WriteLine($"{DatabaseSettings.Describe(target)}: up to date ({Migrator.Known().Count} migrations, none to apply).");
        }
        else
        {
            foreach (var name in applied)
            {
                Console.WriteLine($"applied {name}");
            }

            Console.WriteLine($"{DatabaseSettings.Describe(target)}: {applied.Count} migration(s) applied.");
        }

        return 0;
    }
}
