using System.CommandLine;
using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Infrastructure.Database;
using Npgsql;

namespace CampaignEvents.Cli.Commands;

static class MigrateCommand
{
    public static Command Create()
    {
        var command = new Command("migrate", "Apply the database migrations (database/migrations/NNN_name.sql) to the local database of ConnectionStrings:Contacts, in order, each once. Safe to run again.");
        command.SetAction((_, _) => Failures.Guard(() => Task.FromResult(Run())));
        return command;
    }

    static int Run()
    {
        var target = DatabaseSettings.Require(Settings.Load(), DatabaseSettings.Contacts);
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
