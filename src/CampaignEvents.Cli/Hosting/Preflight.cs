using CampaignEvents.Cli.Commands;
using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.Infrastructure.Observability;
using CampaignEvents.Reconciliation;
using CampaignEvents.Source.Configuration;
using CampaignEvents.Source.Preflight;
using CampaignEvents.Sync.Configuration;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace CampaignEvents.Cli.Hosting;

/// <summary>
/// Checks, before a host starts, that every server its roles need answers with the configured
/// settings, so a wrong setting ends the program with one line instead of retry noise.
/// </summary>
static class Preflight
{
    /// <param name="sourceShape">Also check the source's prerequisites (tables, replica identity, privilege); the demo creates them itself.</param>
    public static async Task Check(IConfiguration configuration, IReadOnlyCollection<Role> roles, CancellationToken cancel, bool sourceShape = true)
    {
        // every setting first, before any server is asked: a wrong one is the same line as in any other command
        var rabbit = Validate(configuration, roles);

        // the broker is asked while the databases are (most of either is waiting on its server); a
        // database's failure is still the line printed, at once, as when they were asked one after the other
        using var dropBroker = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var broker = Broker(rabbit, dropBroker.Token);
        try
        {
            await Databases(configuration, roles, sourceShape, cancel);
        }
        catch
        {
            await dropBroker.CancelAsync();
            await broker.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            throw;
        }

        await broker;
    }

    static async Task Databases(IConfiguration configuration, IReadOnlyCollection<Role> roles, bool sourceShape, CancellationToken cancel)
    {
        // every role keeps something in the local database (the source adapter its snapshot state)
        await Database(configuration, DatabaseSettings.Contacts, cancel);

        if (roles.Contains(Role.Source))
        {
            await Database(configuration, DatabaseSettings.Source, cancel);
            if (sourceShape)
            {
                await SourcePreflight.CheckAsync(configuration, cancel);
            }
        }
    }

    static async Task Broker(RabbitMqOptions rabbit, CancellationToken cancel)
    {
        await using var connection = await BrokerConnection.Open(rabbit, "campaign-events preflight", cancel);
    }

    /// <summary>The sections the roles read, bound and validated the way every command does (<see cref="Settings"/>).</summary>
    public static RabbitMqOptions Validate(IConfiguration configuration, IReadOnlyCollection<Role> roles)
    {
        var rabbit = configuration.RabbitMq();
        if (roles.Contains(Role.Sync))
        {
            configuration.Valid(SyncOptions.Section, new SyncOptionsValidation());
        }

        if (roles.Contains(Role.Source))
        {
            configuration.Valid<SourceOptions>(SourceOptions.Section);
        }

        if (roles.Contains(Role.Reconcile))
        {
            configuration.Valid<ReconciliationOptions>(ReconciliationOptions.Section);
        }

        configuration.Valid<ObservabilityOptions>(ObservabilityOptions.Section);
        return rabbit;
    }

    static async Task Database(IConfiguration configuration, string name, CancellationToken cancel)
    {
        var target = DatabaseSettings.Require(configuration, name);
        try
        {
            await using var connection = new NpgsqlConnection(target.ConnectionString);
            await connection.OpenAsync(cancel);
        }
        catch (NpgsqlException e)
        {
            throw Failures.Database(name, target, e);
        }
    }
}
