using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Infrastructure.Database;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.Source.Mapping;
using CampaignEvents.TestSupport;
using CampaignEvents.TestSupport.Generators;
using CampaignEvents.TestSupport.Stack;
using Dapper;
using Npgsql;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace CampaignEvents.IntegrationTests.FaultMatrix;

/// <summary>Where a matrix case runs: which servers are its own (to stop them) and which connections go through a proxy (to cut them).</summary>
sealed record MatrixSetup
{
    public ThrowawayPostgres? SourceServer { get; init; }

    public ThrowawayPostgres? LocalServer { get; init; }

    public ThrowawayRabbitMq? Broker { get; init; }

    /// <summary>The adapter reaches the source database through a <see cref="TcpProxy"/>.</summary>
    public bool ProxySource { get; init; }

    /// <summary>The sync consumers reach the broker through a <see cref="TcpProxy"/>.</summary>
    public bool ProxyBroker { get; init; }

    public Dictionary<string, string?> Settings { get; init; } = [];
}

/// <summary>
/// One fault-matrix case's world: a source database in the default shape with 50,000 contacts, a
/// migrated local database, a broker, and the roles as separate <c>campaign-events run</c>
/// processes, as operators run them. It keeps the source changing, and checks what a user relies
/// on: local equal to the source row by row, <c>reconcile --all</c> exit 0, every error queue and
/// wait queue empty.
/// </summary>
sealed class MatrixWorld : IAsyncDisposable
{
    public const int Contacts = 50_000;
    const int CampaignCount = 5;
    const string WaitStep = "00:00:01";

    readonly MatrixSetup setup;
    readonly TestStack stack;
    readonly IsolatedVhost? vhost;
    readonly List<(string Role, Process Process)> processes = [];
    readonly StringBuilder log = new();
    readonly PublishedChanges published;
    long phoneCounter = 7_000_000;

    MatrixWorld(MatrixSetup setup, TestStack stack, IsolatedVhost? vhost, RabbitMqOptions rabbit, NpgsqlConnectionStringBuilder source, NpgsqlConnectionStringBuilder local, TcpProxy? sourceProxy, TcpProxy? brokerProxy, PublishedChanges published)
    {
        this.setup = setup;
        this.stack = stack;
        this.vhost = vhost;
        this.published = published;
        Rabbit = rabbit;
        SourceDb = source;
        LocalDb = local;
        SourceProxy = sourceProxy;
        BrokerProxy = brokerProxy;
        Source = NpgsqlDataSource.Create(source);
        Slot = $"ce_m_{Guid.NewGuid():N}"[..20];
    }

    public RabbitMqOptions Rabbit { get; }

    public NpgsqlConnectionStringBuilder SourceDb { get; }

    public NpgsqlConnectionStringBuilder LocalDb { get; }

    public NpgsqlDataSource Source { get; }

    public TcpProxy? SourceProxy { get; }

    public TcpProxy? BrokerProxy { get; }

    public string Slot { get; }

    /// <summary>Source rows written: the seed and every row the churn touched.</summary>
    public long Events { get; private set; }

    /// <summary>Changes the adapter published more than once (re-sent after a fault), as a queue of the test's own saw them.</summary>
    public long Duplicates => published.Duplicates;

    /// <summary>Contact changes the adapter published so far, duplicates included.</summary>
    public long Published => published.Items;

    /// <summary>
    /// What the roles wrote, for a failure's message: each role's last lines, each line cut short,
    /// so one role's stack traces (a line of several KB each) do not hide what another said.
    /// </summary>
    public string Log
    {
        get
        {
            string all;
            lock (log)
            {
                all = log.ToString();
            }

            var text = new StringBuilder();
            foreach (var role in all.Split('\n', StringSplitOptions.RemoveEmptyEntries).GroupBy(l => l[..Math.Max(0, l.IndexOf(':', StringComparison.Ordinal))]))
            {
                foreach (var line in role.TakeLast(30))
                {
                    text.AppendLine(line.Length > 700 ? $"{line[..700]} …" : line.TrimEnd('\r'));
                }
            }

            return text.ToString();
        }
    }

    public static async Task<MatrixWorld> Create(string name, MatrixSetup setup)
    {
        var stack = await TestStack.Get();
        IsolatedVhost? vhost = null;
        RabbitMqOptions rabbit;
        if (setup.Broker is { } broker)
        {
            rabbit = broker.Rabbit;
        }
        else
        {
            vhost = new IsolatedVhost();
            await vhost.InitializeAsync();
            rabbit = vhost.Rabbit;
        }

        var source = await CreateDatabase(stack, setup.SourceServer, $"msrc{name}");
        var local = await CreateDatabase(stack, setup.LocalServer, $"mloc{name}");
        Migrator.Apply(local);
        await using (var connection = new NpgsqlConnection(source.ConnectionString))
        {
            await connection.OpenAsync();
            await connection.ExecuteAsync(DefaultSourceSchema.Sql);
        }

        var sourceProxy = setup.ProxySource ? new TcpProxy(source.Port) : null;
        var brokerProxy = setup.ProxyBroker ? new TcpProxy(rabbit.Port) : null;
        var published = await PublishedChanges.Start(rabbit, $"matrix-oracle-{Guid.NewGuid():N}"[..28]);
        var world = new MatrixWorld(setup, stack, vhost, rabbit, source, local, sourceProxy, brokerProxy, published);
        // the deployment's steps, as the administrator (docs/adr/0015), on the shared servers and on a
        // case's own alike: the logins exist with the grants (local.sql came with the migrations, the
        // broker users' permissions with the vhost or the throwaway node), source.sql on the source,
        // the whole topology (migrate --topology). Every role process then runs as its job.
        await Identities.GrantSource(source, world.Slot);
        await new BrokerTopology(rabbit, [TimeSpan.Parse(WaitStep, CultureInfo.InvariantCulture)]).Declare(CancellationToken.None);
        return world;
    }

    static async Task<NpgsqlConnectionStringBuilder> CreateDatabase(TestStack stack, ThrowawayPostgres? server, string purpose)
    {
        if (server is null)
        {
            return await Databases.Create(stack, purpose);
        }

        var name = $"{purpose}_{Guid.NewGuid():N}"[..30];
        await Identities.EnsureRoles(new NpgsqlConnectionStringBuilder(server.ConnectionString));
        await server.CreateDatabase(name);
        return server.Connection(name);
    }

    /// <summary>The environment of a role process: the world's databases, broker (or their proxies), slot, and short campaign waits.</summary>
    Dictionary<string, string?> Environment(string role)
    {
        var source = new NpgsqlConnectionStringBuilder(SourceDb.ConnectionString);
        if (SourceProxy is not null)
        {
            source.Port = SourceProxy.Port;
        }

        var rabbitPort = role == "sync" && BrokerProxy is not null ? BrokerProxy.Port : Rabbit.Port;
        var environment = new Dictionary<string, string?>
        {
            ["ConnectionStrings__Source"] = source.ConnectionString,
            ["ConnectionStrings__Contacts"] = LocalDb.ConnectionString,
            ["RabbitMq__Host"] = Rabbit.Host,
            ["RabbitMq__Port"] = rabbitPort.ToString(CultureInfo.InvariantCulture),
            ["RabbitMq__ManagementPort"] = Rabbit.ManagementPort.ToString(CultureInfo.InvariantCulture),
            ["RabbitMq__VirtualHost"] = Rabbit.VirtualHost,
            ["RabbitMq__Username"] = Rabbit.Username,
            ["RabbitMq__Password"] = Rabbit.Password,
            ["Source__SlotName"] = Slot,
            ["Source__PublicationName"] = Slot,
            ["Source__HeartbeatInterval"] = "00:00:01",
            ["Logging__LogLevel__Default"] = "Warning",
            ["Observability__MetricsPort"] = "0",
            ["Observability__HealthPort"] = "0",
        };
        for (var i = 0; i < 60; i++)
        {
            environment[$"Sync__CampaignWaitIntervals__{i}"] = WaitStep;
        }

        var job = role switch { "source" => Job.Source, "sync" => Job.Sync, "reconcile" => Job.Reconcile, _ => Job.Pipeline };
        foreach (var (key, value) in Identities.Environment(job, LocalDb, source))
        {
            environment[key] = value;
        }

        foreach (var (key, value) in setup.Settings)
        {
            environment[key] = value;
        }

        return environment;
    }

    /// <summary>Starts <c>campaign-events run --role <paramref name="role"/></c> as its own process.</summary>
    public Process Start(string role)
    {
        var process = Process.Start(CliProcess.StartInfo(["run", "--role", role], Environment(role)))!;
        var tag = $"{role}#{processes.Count(p => p.Role == role) + 1}";
        process.OutputDataReceived += (_, e) => Write(tag, e.Data);
        process.ErrorDataReceived += (_, e) => Write(tag, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        processes.Add((role, process));
        return process;
    }

    /// <summary>The newest process of a role.</summary>
    public Process Current(string role) => processes.Last(p => p.Role == role).Process;

    void Write(string tag, string? line)
    {
        if (line is not null)
        {
            lock (log)
            {
                log.Append(tag).Append(": ").AppendLine(line);
            }
        }
    }

    /// <summary>SIGKILL: no stop, no flush, no acknowledgement.</summary>
    public static async Task Kill(Process process)
    {
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
    }

    public async Task<Guid[]> Seed()
    {
        await using var connection = await Source.OpenConnectionAsync();
        var campaigns = new List<Guid>();
        for (var i = 0; i < CampaignCount; i++)
        {
            campaigns.Add(await connection.ExecuteScalarAsync<Guid>(
                "INSERT INTO campaigns (name, type, status, config) VALUES (@name, 'voice', 'active', '{\"retries\": 2}') RETURNING id", new { name = $"campaign {i}" }));
        }

        await using (var copy = await connection.BeginBinaryImportAsync("COPY contacts (campaign_id, phone_number, metadata) FROM STDIN (FORMAT BINARY)"))
        {
            for (var i = 0; i < Contacts; i++)
            {
                await copy.StartRowAsync();
                await copy.WriteAsync(campaigns[i % CampaignCount], NpgsqlTypes.NpgsqlDbType.Uuid);
                await copy.WriteAsync($"+1415{2_000_000 + i:D7}", NpgsqlTypes.NpgsqlDbType.Text);
                await copy.WriteAsync($$"""{"n": {{i}}, "name": "contact {{i}}", "tags": ["a", "b"]}""", NpgsqlTypes.NpgsqlDbType.Jsonb);
            }

            await copy.CompleteAsync();
        }

        Events += Contacts + CampaignCount;
        return [.. campaigns];
    }

    /// <summary>
    /// Keeps the source changing until cancelled, one small transaction at a time: inserts,
    /// metadata updates, deletes, phone changes, contacts moving to another campaign, campaigns
    /// changing. A transaction the source refuses (it is being stopped) is simply not counted.
    /// </summary>
    public async Task Churn(Guid[] campaigns, CancellationToken stop)
    {
        var random = new Random(campaigns[0].GetHashCode());
        var round = 0;
        while (!stop.IsCancellationRequested)
        {
            round++;
            var campaign = campaigns[random.Next(campaigns.Length)];
            var other = campaigns[random.Next(campaigns.Length)];
            try
            {
                await using var connection = await Source.OpenConnectionAsync(stop);
                Events += (round % 6) switch
                {
                    0 => await connection.ExecuteAsync(
                        "INSERT INTO contacts (campaign_id, phone_number, metadata) SELECT @campaign, '+1415' || (@first + g)::text, jsonb_build_object('late', g) FROM generate_series(1, 20) g",
                        new { campaign, first = Interlocked.Add(ref phoneCounter, 20) - 20 }),
                    1 => await connection.ExecuteAsync(
                        "UPDATE contacts SET metadata = metadata || jsonb_build_object('round', @round) WHERE id IN (SELECT id FROM contacts TABLESAMPLE SYSTEM (0.2) LIMIT 40)",
                        new { round }),
                    2 => await connection.ExecuteAsync("DELETE FROM contacts WHERE id IN (SELECT id FROM contacts TABLESAMPLE SYSTEM (0.1) LIMIT 10)"),
                    3 => await connection.ExecuteAsync(
                        "UPDATE contacts SET phone_number = '+1415' || @phone::text WHERE id IN (SELECT id FROM contacts TABLESAMPLE SYSTEM (0.1) LIMIT 1)",
                        new { phone = Interlocked.Increment(ref phoneCounter) }),
                    4 => await connection.ExecuteAsync(
                        "UPDATE contacts SET campaign_id = @other WHERE id IN (SELECT id FROM contacts TABLESAMPLE SYSTEM (0.1) WHERE campaign_id <> @other LIMIT 10)",
                        new { other }),
                    _ => await connection.ExecuteAsync(
                        "UPDATE campaigns SET name = 'campaign ' || @round, config = jsonb_build_object('round', @round) WHERE id = @campaign",
                        new { campaign, round }),
                };
                await Task.Delay(15, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                // the source is down for the fault: the adapter must still catch up with what committed
                await Task.Delay(200, CancellationToken.None);
            }
        }
    }

    /// <summary>Waits until the local contacts and campaigns equal the source's, first by a digest of each side, then row by row.</summary>
    public async Task Converged(TimeSpan deadline)
    {
        await Eventually.Until(async () => await Digest(SourceDb) == await Digest(LocalDb), deadline, () => Where().GetAwaiter().GetResult());
        var expected = await Rows(SourceDb);
        var actual = await Rows(LocalDb);
        if (!ContactAssert.SameContacts(expected.Contacts, actual.Contacts))
        {
            throw new InvalidOperationException("contacts differ");
        }

        Xunit.Assert.Equal(expected.Campaigns, actual.Campaigns);
    }

    /// <summary>Where a case that did not converge stands: both digests, the queues, the slot, what the roles wrote.</summary>
    async Task<string> Where()
    {
        var queues = new List<string>();
        foreach (var queue in new[] { Topology.ContactChangesQueue, Topology.CampaignChangesQueue, Topology.ErrorQueue(Topology.ContactChangesQueue), Topology.WaitQueue(TimeSpan.Parse(WaitStep, CultureInfo.InvariantCulture)) })
        {
            try
            {
                queues.Add($"{queue} {await Depth(queue)}");
            }
            catch (Exception e) when (e is SettingsException or BrokerUnreachableException or OperationInterruptedException)
            {
                queues.Add($"{queue} ?");
            }
        }

        string slot;
        try
        {
            await using var connection = await Source.OpenConnectionAsync();
            slot = await connection.ExecuteScalarAsync<string>(
                "SELECT coalesce((SELECT 'slot active=' || active || ' confirmed ' || confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = @slot), 'no slot') || ', WAL at ' || pg_current_wal_lsn()",
                new { slot = Slot }) ?? "";
        }
        catch (NpgsqlException e)
        {
            slot = $"source unreachable: {e.Message}";
        }

        return $"local never reached the source's digest: source {await Digest(SourceDb)}, local {await Digest(LocalDb)}; queues: {string.Join(", ", queues)}; {slot}; published {published.Items}; the roles wrote:\n{Log}";
    }

    const string DigestSql = """
        SELECT (SELECT count(*) || ':' || coalesce(sum(hashtextextended(campaign_id::text || phone_number || metadata::text, 0)), 0) FROM contacts)
            || '/' || (SELECT count(*) || ':' || coalesce(sum(hashtextextended(id::text || name || type || status || config::text, 0)), 0) FROM campaigns)
        """;

    static async Task<string> Digest(NpgsqlConnectionStringBuilder database)
    {
        try
        {
            await using var connection = new NpgsqlConnection(database.ConnectionString);
            await connection.OpenAsync();
            return await connection.ExecuteScalarAsync<string>(DigestSql) ?? "";
        }
        catch (NpgsqlException e)
        {
            return $"unreachable: {e.Message} ({database.Database})";
        }
    }

    static async Task<(List<ContactRow> Contacts, List<string> Campaigns)> Rows(NpgsqlConnectionStringBuilder database)
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        var contacts = (await connection.QueryAsync<(Guid CampaignId, string PhoneNumber, string Metadata)>("SELECT campaign_id, phone_number, metadata::text FROM contacts"))
            .Select(r => new ContactRow(r.CampaignId, r.PhoneNumber, JsonNode.Parse(r.Metadata)!.AsObject()))
            .ToList();
        var campaigns = (await connection.QueryAsync<string>("SELECT id::text || '|' || name || '|' || type || '|' || status || '|' || config::text FROM campaigns ORDER BY id")).ToList();
        return (contacts, campaigns);
    }

    /// <summary>
    /// The checks after convergence: reconcile --all exits 0, no error queue and no wait queue holds
    /// anything; and the guard: the role processes connected as their jobs (the broker's connections
    /// where the management API is at hand, the databases' sessions).
    /// </summary>
    public async Task Verified()
    {
        if (vhost is not null)
        {
            await Identities.RequireJobUsersOnBroker(vhost.Management, vhost.Name);
        }

        await Identities.RequireJobLoginsConnected(SourceDb, RoleGrants.Roles.Source);

        var reconcile = await CliProcess.Run(["reconcile", "--all", "--timeout", "60"], Environment("reconcile"), timeout: TimeSpan.FromMinutes(4));
        Xunit.Assert.True(reconcile.ExitCode == 0, $"reconcile --all: {reconcile}");

        foreach (var queue in new[]
        {
            Topology.ErrorQueue(Topology.ContactChangesQueue), Topology.ErrorQueue(Topology.CampaignChangesQueue), Topology.ErrorQueue(Topology.ReconciliationQueue),
            Topology.WaitQueue(TimeSpan.Parse(WaitStep, CultureInfo.InvariantCulture)),
        })
        {
            Xunit.Assert.True(await Depth(queue) == 0, $"{queue} holds {await Depth(queue)} message(s); the roles wrote:\n{Log}");
        }
    }

    /// <summary>Messages in a queue, read with a passive declare (works on a node without the management plugin).</summary>
    public async Task<uint> Depth(string queue)
    {
        await using var connection = await BrokerConnection.Open(Rabbit, "matrix check");
        try
        {
            await using var channel = await connection.CreateChannelAsync();
            return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
        }
        catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 404)
        {
            return 0;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (_, process) in processes.Where(p => !p.Process.HasExited))
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        await published.DisposeAsync();
        if (SourceProxy is not null)
        {
            await SourceProxy.DisposeAsync();
        }

        if (BrokerProxy is not null)
        {
            await BrokerProxy.DisposeAsync();
        }

        await Source.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await DropSlot();
        if (setup.SourceServer is null)
        {
            await Databases.Drop(stack, SourceDb.Database!);
        }

        if (setup.LocalServer is null)
        {
            await Databases.Drop(stack, LocalDb.Database!);
        }

        if (vhost is not null)
        {
            await vhost.DisposeAsync();
        }
    }

    /// <summary>A slot left behind keeps WAL for ever on the shared server.</summary>
    async Task DropSlot()
    {
        try
        {
            await using var admin = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(SourceDb.ConnectionString) { Database = "postgres" }.ConnectionString);
            await admin.OpenAsync();
            if (!await ReplicationSlots.Drop(admin, Slot, prefix: true, deadline: TimeSpan.FromSeconds(30)))
            {
                throw new TimeoutException($"replication slots {Slot}* not dropped within 30 s");
            }
        }
        catch (NpgsqlException)
        {
            // a throwaway server already gone takes its slots with it
        }
    }
}

/// <summary>
/// Every change the adapter publishes, as a queue of the test's own bound to <c>contact-change-batch</c>
/// sees it: the count of (campaign, phone, state) published more than once is the duplicates the
/// faults caused (at-least-once: re-sent, never lost).
/// </summary>
sealed class PublishedChanges : IAsyncDisposable
{
    readonly HashSet<(Guid, string, string)> seen = [];
    readonly IConnection connection;
    readonly IChannel channel;
    readonly string queue;
    long duplicates;
    long published;

    PublishedChanges(IConnection connection, IChannel channel, string queue)
    {
        this.connection = connection;
        this.channel = channel;
        this.queue = queue;
    }

    public long Duplicates => Interlocked.Read(ref duplicates);

    public long Items => Interlocked.Read(ref published);

    public static async Task<PublishedChanges> Start(RabbitMqOptions rabbit, string queue)
    {
        var factory = BrokerConnection.Factory(rabbit, "matrix oracle");
        factory.AutomaticRecoveryEnabled = true;
        factory.TopologyRecoveryEnabled = true;
        var connection = await factory.CreateConnectionAsync();
        var channel = await connection.CreateChannelAsync();
        await channel.ExchangeDeclareAsync(Topology.ContactChangeBatchExchange, ExchangeType.Fanout, durable: true, autoDelete: false);
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
        await channel.QueueBindAsync(queue, Topology.ContactChangeBatchExchange, "");
        var oracle = new PublishedChanges(connection, channel, queue);
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += (_, delivery) =>
        {
            oracle.Count(delivery.Body);
            return Task.CompletedTask;
        };
        await channel.BasicConsumeAsync(queue, autoAck: true, consumer);
        return oracle;
    }

    void Count(ReadOnlyMemory<byte> body)
    {
        using var document = JsonDocument.Parse(body);
        foreach (var list in new[] { "changes", "deletes" })
        {
            if (document.RootElement.TryGetProperty(list, out var items) && items.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in items.EnumerateArray())
                {
                    // the same state of the same key sent again: a re-sent change, or a snapshot read again after a kill (new version, same row)
                    var state = item.TryGetProperty("metadata", out var metadata) ? metadata.GetRawText() : "deleted";
                    var key = (item.GetProperty("campaignId").GetGuid(), item.GetProperty("phoneNumber").GetString()!, state);
                    Interlocked.Increment(ref this.published);
                    lock (seen)
                    {
                        if (!seen.Add(key))
                        {
                            duplicates++;
                        }
                    }
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await channel.QueueDeleteAsync(queue);
        }
        catch (Exception e) when (e is OperationInterruptedException or AlreadyClosedException)
        {
            // the broker of the case is already gone
        }

        await channel.DisposeAsync();
        await connection.DisposeAsync();
    }
}
