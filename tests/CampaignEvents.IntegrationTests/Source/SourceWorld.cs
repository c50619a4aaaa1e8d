using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using CampaignEvents.Cli.Hosting;
using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Infrastructure.Database;
using CampaignEvents.Infrastructure.Phones;
using CampaignEvents.IntegrationTests.Pipeline;
using CampaignEvents.Source.Mapping;
using CampaignEvents.TestSupport;
using CampaignEvents.TestSupport.Generators;
using CampaignEvents.TestSupport.Stack;
using Dapper;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace CampaignEvents.IntegrationTests.Source;

/// <summary>
/// One isolated world for a source-adapter scenario: a source database in the default shape, a
/// migrated local database, unique slot and publication names, and the oracle on the class's vhost.
/// Disposal stops the adapters, drops the slot (so the server keeps no WAL for it) and the databases.
/// <see cref="Settings"/> hold the administrator's connections (the world's own setup and
/// assertions use them); every adapter or pipeline it runs gets its job's identity laid over them
/// (<see cref="RoleHosts"/>, <see cref="Identities.As(Job, IReadOnlyDictionary{string, string?})"/>),
/// the source's grants and publication made the way its admin makes them (database/roles/source.sql).
/// </summary>
public sealed class SourceWorld : IAsyncDisposable
{
    readonly List<IHost> hosts = [];
    readonly List<Process> processes = [];

    SourceWorld(TestStack stack, IsolatedVhost vhost, NpgsqlConnectionStringBuilder sourceDb, NpgsqlConnectionStringBuilder localDb, string slot, EventOracle oracle)
    {
        Stack = stack;
        Vhost = vhost;
        SourceDb = sourceDb;
        LocalDb = localDb;
        Slot = slot;
        Oracle = oracle;
        Source = NpgsqlDataSource.Create(sourceDb);
    }

    public TestStack Stack { get; }

    public IsolatedVhost Vhost { get; }

    public NpgsqlConnectionStringBuilder SourceDb { get; }

    public NpgsqlConnectionStringBuilder LocalDb { get; }

    public NpgsqlDataSource Source { get; }

    public string Slot { get; }

    public EventOracle Oracle { get; }

    public Dictionary<string, string?> Settings { get; } = [];

    /// <param name="broker">Another broker than the class's vhost (a throwaway node); the vhost's management API is then not used for it.</param>
    public static async Task<SourceWorld> Create(IsolatedVhost vhost, string purpose, RabbitMqOptions? broker = null)
    {
        var rabbit = broker ?? vhost.Rabbit;
        var stack = await TestStack.Get();
        var sourceDb = await Databases.Create(stack, $"src{purpose}".PadRight(16, (char)120));
        var localDb = await Databases.Create(stack, $"loc{purpose}".PadRight(16, (char)120));
        Migrator.Apply(localDb);
        await using (var connection = new NpgsqlConnection(sourceDb.ConnectionString))
        {
            await connection.OpenAsync();
            await connection.ExecuteAsync(DefaultSourceSchema.Sql);
        }

        var slot = $"ce_t_{Guid.NewGuid():N}"[..24];
        await Identities.GrantSource(sourceDb, slot);
        var oracle = await EventOracle.Start(rabbit, $"oracle-{slot}");
        var world = new SourceWorld(stack, vhost, sourceDb, localDb, slot, oracle);
        world.Settings["ConnectionStrings:Source"] = sourceDb.ConnectionString;
        world.Settings["ConnectionStrings:Contacts"] = localDb.ConnectionString;
        world.Settings["RabbitMq:Host"] = rabbit.Host;
        world.Settings["RabbitMq:Port"] = rabbit.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        world.Settings["RabbitMq:VirtualHost"] = rabbit.VirtualHost;
        world.Settings["RabbitMq:Username"] = rabbit.Username;
        world.Settings["RabbitMq:Password"] = rabbit.Password;
        world.Settings["Source:SlotName"] = slot;
        world.Settings["Source:PublicationName"] = slot;
        world.Settings["Source:HeartbeatInterval"] = "00:00:01";
        return world;
    }

    /// <summary>
    /// Points the world at another source database (a throwaway server's, as its administrator): the
    /// jobs' logins are made there and database/roles/source.sql applied, as on the world's own.
    /// </summary>
    public async Task UseSource(NpgsqlConnectionStringBuilder source)
    {
        await Identities.EnsureRoles(source);
        await Identities.GrantSource(source, Slot);
        Settings["ConnectionStrings:Source"] = source.ConnectionString;
    }

    /// <summary>Starts the adapter in this process (the composition root the run command uses), as the source job.</summary>
    public async Task<IHost> StartAdapter()
    {
        var host = await RoleHosts.Build([Role.Source], Settings);
        hosts.Add(host);
        await host.StartAsync();
        return host;
    }

    public async Task StopAdapters()
    {
        foreach (var host in hosts)
        {
            await host.StopAsync();
            host.Dispose();
        }

        hosts.Clear();
    }

    /// <summary>Starts <c>campaign-events run --role source</c> as a separate process with the world's settings, as the source job.</summary>
    public Process StartAdapterProcess(Action<string>? output = null)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "campaign-events.dll"), "run", "--role", "source"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in Identities.As(Job.Source, Settings))
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        start.Environment["Logging__LogLevel__Default"] = "Warning";
        // tests run side by side: no fixed metrics or health port
        start.Environment["Observability__MetricsPort"] = "0";
        start.Environment["Observability__HealthPort"] = "0";
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { output?.Invoke(e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { output?.Invoke(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        processes.Add(process);
        return process;
    }

    public async Task<Guid[]> CreateCampaigns(int count)
    {
        await using var connection = await Source.OpenConnectionAsync();
        var ids = new List<Guid>();
        for (var i = 0; i < count; i++)
        {
            ids.Add(await connection.ExecuteScalarAsync<Guid>(
                "INSERT INTO campaigns (name, type, status, config) VALUES (@name, 'voice', 'active', '{\"retries\": 2}') RETURNING id", new { name = $"campaign {i}" }));
        }

        return [.. ids];
    }

    /// <summary>Inserts generated contacts with binary COPY (fast seeding).</summary>
    public async Task Seed(IEnumerable<ContactRow> rows)
    {
        await using var connection = await Source.OpenConnectionAsync();
        await using var copy = await connection.BeginBinaryImportAsync("COPY contacts (campaign_id, phone_number, metadata) FROM STDIN (FORMAT BINARY)");
        foreach (var row in rows)
        {
            await copy.StartRowAsync();
            await copy.WriteAsync(row.CampaignId, NpgsqlTypes.NpgsqlDbType.Uuid);
            await copy.WriteAsync(row.PhoneNumber, NpgsqlTypes.NpgsqlDbType.Text);
            await copy.WriteAsync(row.Metadata.ToJsonString(), NpgsqlTypes.NpgsqlDbType.Jsonb);
        }

        await copy.CompleteAsync();
    }

    /// <summary>The source's contacts as the adapter should map them (valid phones only, normalized).</summary>
    public async Task<IReadOnlyList<ContactRow>> SourceContacts()
    {
        await using var connection = await Source.OpenConnectionAsync();
        var phones = new PhoneNormalizer("US");
        var rows = await connection.QueryAsync<(Guid CampaignId, string PhoneNumber, string Metadata)>("SELECT campaign_id, phone_number, metadata::text FROM contacts");
        return [.. rows
            .Select(r => (r, e164: phones.Normalize(r.PhoneNumber, out _)))
            .Where(x => x.e164 is not null)
            .Select(x => new ContactRow(x.r.CampaignId, x.e164!, JsonNode.Parse(x.r.Metadata)!.AsObject()))];
    }

    /// <summary>
    /// Waits until the local contacts equal the source's as the adapter maps them (only the rows
    /// <paramref name="expected"/> keeps, when given); the failure names the first differences and
    /// whatever <paramref name="context"/> adds.
    /// </summary>
    public async Task LocalEqualsSource(TimeSpan deadline, Func<ContactRow, bool>? expected = null, Func<string>? context = null)
    {
        var last = "";
        await Eventually.Until(async () =>
        {
            var wanted = (await SourceContacts()).Where(expected ?? (_ => true)).ToList();
            await using var local = new NpgsqlConnection(LocalDb.ConnectionString);
            await local.OpenAsync();
            var actual = (await local.QueryAsync<(Guid CampaignId, string PhoneNumber, string Metadata)>("SELECT campaign_id, phone_number, metadata::text FROM contacts"))
                .Select(r => new ContactRow(r.CampaignId, r.PhoneNumber, JsonNode.Parse(r.Metadata)!.AsObject()))
                .ToList();
            try
            {
                return ContactAssert.SameContacts(wanted, actual);
            }
            catch (Xunit.Sdk.XunitException e)
            {
                last = e.Message;
                return false;
            }
        }, deadline, () => $"local contacts never matched the source: {last}{context?.Invoke()}");
    }

    /// <summary>Waits until the oracle (what was published) equals the source table.</summary>
    public async Task Converged(TimeSpan deadline)
    {
        string last = "";
        await Eventually.Until(async () =>
        {
            var expected = await SourceContacts();
            try
            {
                return ContactAssert.SameContacts(expected, Oracle.Contacts);
            }
            catch (Xunit.Sdk.XunitException e)
            {
                last = e.Message;
                return false;
            }
        }, deadline, () => $"the published contacts never matched the source ({SlotPosition().GetAwaiter().GetResult()}): {last}");
    }

    /// <summary>Where the slot's confirmed position stands against the source's WAL (a stalled adapter shows here).</summary>
    async Task<string> SlotPosition()
    {
        await using var connection = await Source.OpenConnectionAsync();
        var (confirmed, current) = await connection.QuerySingleOrDefaultAsync<(string?, string)>(
            "SELECT confirmed_flush_lsn::text, pg_current_wal_lsn()::text FROM pg_replication_slots WHERE slot_name = @slot", new { slot = Slot });
        return $"slot {Slot} confirmed at {confirmed ?? "?"}, source WAL at {current ?? "?"}";
    }

    /// <summary>Closes every client connection of the vhost through the management API (stands in for a broker restart).</summary>
    /// <summary>How many client connections the management API lists for the vhost (it lists one once its stats arrived).</summary>
    public async Task<int> BrokerConnections() =>
        (await Vhost.Management.GetFromJsonAsync<JsonElement>($"api/vhosts/{Vhost.Name}/connections")).GetArrayLength();

    public async Task<int> CloseBrokerConnections()
    {
        var connections = await Vhost.Management.GetFromJsonAsync<JsonElement>($"api/vhosts/{Vhost.Name}/connections");
        var closed = 0;
        foreach (var connection in connections.EnumerateArray())
        {
            var name = connection.GetProperty("name").GetString()!;
            var response = await Vhost.Management.DeleteAsync($"api/connections/{Uri.EscapeDataString(name)}");
            if (response.IsSuccessStatusCode)
            {
                closed++;
            }
        }

        return closed;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in processes.Where(p => !p.HasExited))
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        try
        {
            await StopAdapters();
            await Oracle.DisposeAsync();
            await DropSlots();
        }
        finally
        {
            // dropped even when stopping failed (a slot left behind makes this fail loudly, which is wanted)
            await Source.DisposeAsync();
            await Databases.Drop(Stack, SourceDb.Database!);
            await Databases.Drop(Stack, LocalDb.Database!);
        }

        await Vhost.Management.DeleteAsync($"api/queues/{Vhost.Name}/oracle-{Slot}-batches");
        await Vhost.Management.DeleteAsync($"api/queues/{Vhost.Name}/oracle-{Slot}-campaigns");
    }

    /// <summary>Drops this world's slots (waiting for their walsenders to let go): a forgotten slot keeps WAL forever.</summary>
    public async Task DropSlots()
    {
        await using var admin = new NpgsqlConnection(Stack.Postgres.ConnectionString);
        await admin.OpenAsync();
        if (!await ReplicationSlots.Drop(admin, Slot, prefix: true, deadline: TimeSpan.FromSeconds(30)))
        {
            throw new TimeoutException($"replication slots {Slot}* not dropped within 30 s");
        }
    }
}
