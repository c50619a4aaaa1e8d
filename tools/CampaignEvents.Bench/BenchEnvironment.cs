using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Infrastructure.Database;
using CampaignEvents.Source.Mapping;
using CampaignEvents.Throwaway;
using Dapper;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace CampaignEvents.Bench;

/// <summary>
/// The one throwaway world of a benchmark run, on the configured servers (settings read as every
/// campaign-events command reads them): databases <c>ce_bench_{purpose}_{id}</c>, the vhost
/// <c>ce-bench-{id}</c>, replication slots <c>ce_bench_{id}*</c>. All of it is dropped at the end,
/// slots first (a slot nobody reads keeps the source's WAL for ever).
/// </summary>
sealed class BenchEnvironment : IAsyncDisposable
{
    readonly List<string> databases = [];

    BenchEnvironment(IConfiguration configuration, NpgsqlConnectionStringBuilder server, RabbitMqOptions configured, RabbitMqOptions rabbit, string id)
    {
        Configuration = configuration;
        Server = server;
        Configured = configured;
        Rabbit = rabbit;
        Id = id;
    }

    /// <summary>The program's settings (appsettings, the environment, secret files), validated.</summary>
    public IConfiguration Configuration { get; }

    /// <summary>The login of ConnectionStrings:Contacts, which must be allowed to create databases.</summary>
    public NpgsqlConnectionStringBuilder Server { get; }

    /// <summary>The configured broker, on its configured vhost.</summary>
    public RabbitMqOptions Configured { get; }

    /// <summary>The configured broker on the throwaway vhost.</summary>
    public RabbitMqOptions Rabbit { get; }

    public string Id { get; }

    /// <summary>The replication slot (and publication) of this run; every slot starting with it is dropped at the end.</summary>
    public string SlotName => $"ce_bench_{Id}";

    /// <summary>Creates the vhost; a wrong setting (<see cref="Settings.Load"/>) stops the benchmark with one line before anything is created.</summary>
    public static async Task<BenchEnvironment> Create(IConfiguration configuration, CancellationToken cancel)
    {
        var server = DatabaseSettings.Require(configuration, DatabaseSettings.Contacts);
        var configured = configuration.RabbitMq();
        var id = Guid.NewGuid().ToString("N")[..12];
        var rabbit = await ThrowawayVhosts.Create(configured, $"ce-bench-{id}", cancel);
        return new BenchEnvironment(configuration, server, configured, rabbit, id);
    }

    /// <summary>A database of its own: <paramref name="shape"/> says whether it gets the local migrations or the default source schema.</summary>
    public async Task<NpgsqlConnectionStringBuilder> Database(string purpose, DatabaseShape shape, CancellationToken cancel)
    {
        var name = $"ce_bench_{purpose}_{Id}";
        var database = await ThrowawayDatabases.Create(Server, name, cancel);
        databases.Add(name);
        if (shape == DatabaseShape.Local)
        {
            Migrator.Apply(database);
        }
        else if (shape == DatabaseShape.Source)
        {
            await using var connection = new NpgsqlConnection(database.ConnectionString);
            await connection.OpenAsync(cancel);
            await connection.ExecuteAsync(DefaultSourceSchema.Sql);
        }

        return database;
    }

    /// <summary>Drops one of this run's databases now (a reference no longer needed); the rest go at the end.</summary>
    public async Task Drop(NpgsqlConnectionStringBuilder database)
    {
        databases.Remove(database.Database!);
        await DropDatabase(database.Database!);
    }

    /// <summary>
    /// Settings for a host of this run (over the configured ones): its databases, the vhost, the slot
    /// and publication, and warnings only in the log.
    /// </summary>
    public Dictionary<string, string?> HostSettings(NpgsqlConnectionStringBuilder local, NpgsqlConnectionStringBuilder? source = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Contacts"] = local.ConnectionString,
            ["RabbitMq:VirtualHost"] = Rabbit.VirtualHost,
            ["Source:SlotName"] = SlotName,
            ["Source:PublicationName"] = SlotName,
            ["Logging:LogLevel:Default"] = "Warning",
        };
        if (source is not null)
        {
            settings["ConnectionStrings:Source"] = source.ConnectionString;
        }

        return settings;
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using (var connection = new NpgsqlConnection(Server.ConnectionString))
        {
            await connection.OpenAsync();
            // the adapter stopped moments ago: after 2 s a walsender still holding a slot is a leftover
            if (!await ReplicationSlots.Drop(connection, SlotName, prefix: true, deadline: TimeSpan.FromSeconds(10), terminateAfter: TimeSpan.FromSeconds(2)))
            {
                await Console.Error.WriteLineAsync($"warning: replication slots {SlotName}* are still in use; drop them by hand: SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE starts_with(slot_name, '{SlotName}')");
            }
        }

        foreach (var name in databases)
        {
            await DropDatabase(name);
        }

        await ThrowawayVhosts.Delete(Rabbit, Rabbit.VirtualHost);
    }

    async Task DropDatabase(string name)
    {
        // a backend that will not go at once (autovacuum after a large run) gets a few more seconds
        if (await ThrowawayDatabases.Drop(Server, name, TimeSpan.FromSeconds(10)) is { } refusal)
        {
            await Console.Error.WriteLineAsync($"warning: could not drop the benchmark database {name} ({refusal}); drop it by hand");
        }
    }
}

/// <summary>What a throwaway database holds when created.</summary>
enum DatabaseShape
{
    Empty,
    Local,
    Source,
}
