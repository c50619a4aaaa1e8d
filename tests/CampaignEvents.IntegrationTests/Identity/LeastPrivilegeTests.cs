using System.Net;
using System.Text;
using CampaignEvents.Infrastructure.Database;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Source.Configuration;
using CampaignEvents.Source.Mapping;
using CampaignEvents.Source.Preflight;
using CampaignEvents.TestSupport;
using CampaignEvents.TestSupport.Stack;
using Dapper;
using Npgsql;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;
using Xunit;

namespace CampaignEvents.IntegrationTests.Identity;

/// <summary>The local database with its grants (database/roles/local.sql, applied by the migrations).</summary>
public sealed class GrantedLocalDatabase : IAsyncLifetime
{
    readonly IsolatedDatabase database = new();

    public NpgsqlConnectionStringBuilder Connection => database.Connection;

    public async ValueTask InitializeAsync()
    {
        await database.InitializeAsync();
        await Identities.EnsureRoles(database.Stack.Postgres);
    }

    public ValueTask DisposeAsync() => database.DisposeAsync();
}

/// <summary>A source database in the default shape with database/roles/source.sql applied by its owner.</summary>
public sealed class GrantedSourceDatabase : IAsyncLifetime
{
    readonly IsolatedSourceDatabase database = new();

    public NpgsqlConnectionStringBuilder Connection => database.Connection;

    public string Publication { get; } = $"ce_t_{Guid.NewGuid():N}"[..24];

    public async ValueTask InitializeAsync()
    {
        await database.InitializeAsync();
        await using (var connection = await database.DataSource.OpenConnectionAsync())
        {
            await connection.ExecuteAsync(DefaultSourceSchema.Sql);
        }

        await Identities.GrantSource(database.Connection, Publication);
    }

    public ValueTask DisposeAsync() => database.DisposeAsync();
}

/// <summary>
/// What each job's own database login may do, with the grants the deployment ships
/// (database/roles/*.sql): issue 15, "Tests prove that the sync role cannot DROP, ALTER or TRUNCATE
/// and cannot read other tables, and that the source role cannot write".
/// </summary>
public sealed class DatabaseRoleTests(GrantedLocalDatabase local, GrantedSourceDatabase source)
    : IClassFixture<GrantedLocalDatabase>, IClassFixture<GrantedSourceDatabase>
{
    [Fact]
    public async Task The_sync_role_reads_and_writes_the_rows_it_applies_and_nothing_else()
    {
        await using var sync = await Open(local.Connection, RoleGrants.Roles.Sync);

        // what it is for: campaigns, contacts and tombstones
        var campaign = await sync.ExecuteScalarAsync<Guid>("INSERT INTO campaigns (name, type, status) VALUES ('c', 'voice', 'active') RETURNING id");
        await sync.ExecuteAsync("INSERT INTO contacts (campaign_id, phone_number) VALUES (@campaign, '+12015550123')", new { campaign });
        await sync.ExecuteAsync("UPDATE contacts SET metadata = '{\"a\": 1}' WHERE campaign_id = @campaign", new { campaign });
        await sync.ExecuteAsync("INSERT INTO contact_tombstones (campaign_id, phone_number, version) VALUES (@campaign, '+12015550124', 3)", new { campaign });
        await sync.ExecuteAsync("DELETE FROM contact_tombstones WHERE campaign_id = @campaign", new { campaign });
        Assert.Equal(1, await sync.ExecuteScalarAsync<int>("SELECT count(*)::int FROM contacts"));

        // not the schema
        await Refused(sync, "DROP TABLE contacts");
        await Refused(sync, "ALTER TABLE contacts ADD COLUMN spy text");
        await Refused(sync, "TRUNCATE contacts");
        await Refused(sync, "TRUNCATE contact_tombstones");
        await Refused(sync, "CREATE TABLE stash (x int)");

        // nor the other tables
        await Refused(sync, "SELECT count(*) FROM reconciliation_runs");
        await Refused(sync, "SELECT count(*) FROM reconciliation_run_keys");
        await Refused(sync, "SELECT count(*) FROM source_adapter_state");
        await Refused(sync, "SELECT count(*) FROM source_version_domain");
        await Refused(sync, "SELECT count(*) FROM schema_migrations");
    }

    [Fact]
    public async Task The_source_role_reads_the_two_tables_and_may_replicate_but_writes_nothing()
    {
        await using (var owner = new NpgsqlConnection(source.Connection.ConnectionString))
        {
            await owner.OpenAsync();
            var campaign = await owner.ExecuteScalarAsync<Guid>("INSERT INTO campaigns (name, type, status) VALUES ('c', 'voice', 'active') RETURNING id");
            await owner.ExecuteAsync("INSERT INTO contacts (campaign_id, phone_number) VALUES (@campaign, '+12015550123')", new { campaign });
        }

        await using var reader = await Open(source.Connection, RoleGrants.Roles.Source);
        Assert.Equal(1, await reader.ExecuteScalarAsync<int>("SELECT count(*)::int FROM contacts"));
        Assert.Equal(1, await reader.ExecuteScalarAsync<int>("SELECT count(*)::int FROM campaigns"));
        Assert.True(await reader.ExecuteScalarAsync<bool>("SELECT rolreplication FROM pg_roles WHERE rolname = current_user"));
        Assert.True(await reader.ExecuteScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = @publication)", new { publication = source.Publication }));

        await Refused(reader, "INSERT INTO contacts (campaign_id, phone_number) SELECT campaign_id, '+12015550999' FROM contacts LIMIT 1");
        await Refused(reader, "UPDATE contacts SET metadata = '{}'");
        await Refused(reader, "DELETE FROM contacts");
        await Refused(reader, "UPDATE campaigns SET name = 'x'");
        await Refused(reader, "TRUNCATE contacts");
        await Refused(reader, "CREATE TABLE stash (x int)");
        await Refused(reader, $"ALTER PUBLICATION {source.Publication} DROP TABLE contacts");
    }

    [Fact]
    public async Task Without_the_publication_the_source_role_is_told_in_one_line_to_run_the_admin_step()
    {
        await using var login = NpgsqlDataSource.Create(Identities.Login(source.Connection, RoleGrants.Roles.Source));
        var missing = new SourceOptions { PublicationName = "ce_no_such_publication" };
        var e = await Assert.ThrowsAsync<SettingsException>(() => SourcePreflight.CheckAsync(login, missing));
        Assert.Contains("publication ce_no_such_publication does not exist", e.Message, StringComparison.Ordinal);
        Assert.Contains("run database/roles/source.sql as the tables' owner", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);

        // the publication the admin step created passes
        await SourcePreflight.CheckAsync(login, new SourceOptions { PublicationName = source.Publication });
    }

    [Fact]
    public async Task The_source_role_cannot_connect_to_the_local_database()
    {
        var e = await Assert.ThrowsAsync<PostgresException>(async () => await Open(local.Connection, RoleGrants.Roles.Source));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, e.SqlState);
    }

    [Fact]
    public async Task The_reader_reads_every_table_and_writes_none()
    {
        await using var reader = await Open(local.Connection, RoleGrants.Roles.Reader);
        foreach (var table in new[] { "campaigns", "contacts", "contact_tombstones", "reconciliation_runs", "source_adapter_state", "source_version_domain" })
        {
            await reader.ExecuteScalarAsync<long>($"SELECT count(*) FROM {table}");
        }

        await Refused(reader, "INSERT INTO campaigns (name, type, status) VALUES ('c', 'voice', 'active')");
        await Refused(reader, "DELETE FROM contacts");
    }

    [Fact]
    public async Task The_reconcile_role_reads_contacts_and_writes_only_its_reports()
    {
        await using var reconcile = await Open(local.Connection, RoleGrants.Roles.Reconcile);
        await reconcile.ExecuteScalarAsync<long>("SELECT count(*) FROM contacts");
        await reconcile.ExecuteAsync("""
            INSERT INTO reconciliation_runs (id, campaign_id, outcome, started_at, finished_at, source_contacts, local_contacts,
                buckets_compared, buckets_differing, settled_in_flight, still_changing, missing_locally, extra_locally, different,
                rejected_at_source, repair_requested, repaired_keys)
            VALUES (gen_random_uuid(), gen_random_uuid(), 'consistent', now(), now(), 0, 0, 256, 0, 0, 0, 0, 0, 0, 0, false, 0)
            """);
        await Refused(reconcile, "DELETE FROM contacts");
        await Refused(reconcile, "UPDATE campaigns SET name = 'x'");
        await Refused(reconcile, "DELETE FROM reconciliation_runs");
    }

    static async Task<NpgsqlConnection> Open(NpgsqlConnectionStringBuilder database, string role)
    {
        var connection = new NpgsqlConnection(Identities.Login(database, role).ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    static async Task Refused(NpgsqlConnection connection, string sql)
    {
        var e = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync(sql));
        Assert.True(e.SqlState == PostgresErrorCodes.InsufficientPrivilege, $"{sql}: expected permission denied (42501), got {e.SqlState} {e.MessageText}");
    }
}

/// <summary>
/// What each job's broker user may do, with the permissions the deployment ships
/// (infra/compose/rabbitmq-definitions.json) on a vhost of its own where the administrator declared
/// the topology (migrate --topology): issue 15, "Tests prove that a publisher cannot consume, purge
/// or delete queues, and that a consumer cannot publish to the contract's exchanges".
/// </summary>
public sealed class BrokerUserTests(IsolatedVhost vhost) : IClassFixture<IsolatedVhost>, IAsyncLifetime
{
    static readonly ReadOnlyMemory<byte> Body = Encoding.UTF8.GetBytes("{}");

    public async ValueTask InitializeAsync()
    {
        await Identities.GrantBroker(vhost.Management, vhost.Name);
        await new BrokerTopology(vhost.Rabbit, [TimeSpan.FromSeconds(5)]).Declare(CancellationToken.None);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Fact]
    public async Task A_publisher_publishes_to_the_contract_exchanges_and_cannot_consume_purge_or_delete_queues()
    {
        await using var connection = await Connect(Identities.BrokerUser(Job.Publisher));
        foreach (var exchange in Topology.ContractExchanges)
        {
            await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
            await channel.BasicPublishAsync(exchange, "", mandatory: true, new BasicProperties(), Body);
        }

        await Eventually.Until(async () => await vhost.MessagesReady(Topology.ContactChangesQueue) == 3, TimeSpan.FromSeconds(10), "the three contact messages in contact-changes");

        await Refused(connection, c => c.BasicGetAsync(Topology.ContactChangesQueue, autoAck: true));
        await Refused(connection, c => c.BasicConsumeAsync(Topology.ContactChangesQueue, autoAck: true, new AsyncEventingBasicConsumer(c)));
        await Refused(connection, c => c.QueuePurgeAsync(Topology.ContactChangesQueue));
        await Refused(connection, c => c.QueueDeleteAsync(Topology.ContactChangesQueue));
        await Refused(connection, c => c.QueueDeleteAsync(Topology.ErrorQueue(Topology.ContactChangesQueue)));
        await Refused(connection, c => c.ExchangeDeleteAsync(Topology.ContactChangedExchange));
        await Refused(connection, c => c.QueueDeclareAsync("stash", durable: true, exclusive: false, autoDelete: false));
        await Refused(connection, Publish(Topology.ReconcileCampaignExchange));
        await Refused(connection, Publish(Topology.ContactChangesQueue));
        Assert.Equal(3, await vhost.MessagesReady(Topology.ContactChangesQueue));
    }

    [Theory]
    [InlineData(Job.Sync)]
    [InlineData(Job.Reconcile)]
    public async Task A_consumer_cannot_publish_to_the_contract_exchanges(Job job)
    {
        var contacts = await vhost.MessagesReady(Topology.ContactChangesQueue);
        var campaigns = await vhost.MessagesReady(Topology.CampaignChangesQueue);
        await using var connection = await Connect(Identities.BrokerUser(job));
        foreach (var exchange in Topology.ContractExchanges)
        {
            await Refused(connection, Publish(exchange), exchange);
        }

        Assert.Equal(contacts, await vhost.MessagesReady(Topology.ContactChangesQueue));
        Assert.Equal(campaigns, await vhost.MessagesReady(Topology.CampaignChangesQueue));
    }

    [Fact]
    public async Task The_sync_user_consumes_its_queues_and_cannot_touch_the_reconciliation_queues()
    {
        await using var connection = await Connect(Identities.BrokerUser(Job.Sync));
        await using (var channel = await connection.CreateChannelAsync())
        {
            // allowed: the get is answered (other tests of the class may have left messages there,
            // so whatever it returns goes back to the queue); a refusal would close the channel
            var got = await channel.BasicGetAsync(Topology.ContactChangesQueue, autoAck: false);
            if (got is not null)
            {
                await channel.BasicNackAsync(got.DeliveryTag, multiple: false, requeue: true);
            }
        }

        await Refused(connection, c => c.BasicGetAsync(Topology.ReconciliationQueue, autoAck: true));
        await Refused(connection, c => c.QueuePurgeAsync(Topology.ReconciliationSourceRepairQueue));
        await Refused(connection, Publish(Topology.ReconciliationSourceRepairQueue), Topology.ReconciliationSourceRepairQueue);
    }

    [Fact]
    public async Task The_monitoring_user_reads_the_management_api_and_neither_consumes_nor_deletes()
    {
        var monitoring = Identities.As(vhost.Rabbit, Identities.BrokerUser(Job.Status));
        using (var http = ManagementApi.Client(monitoring))
        {
            using var queue = await http.GetAsync($"api/queues/{Uri.EscapeDataString(vhost.Name)}/{Topology.ContactChangesQueue}");
            Assert.Equal(HttpStatusCode.OK, queue.StatusCode);
            using var delete = await http.DeleteAsync($"api/queues/{Uri.EscapeDataString(vhost.Name)}/{Topology.ContactChangesQueue}");
            Assert.False(delete.IsSuccessStatusCode, $"DELETE of a queue answered {delete.StatusCode}");
        }

        await using var connection = await Connect(monitoring.Username);
        await Refused(connection, c => c.BasicGetAsync(Topology.ContactChangesQueue, autoAck: true));
        await Refused(connection, Publish(Topology.ContactChangedExchange), Topology.ContactChangedExchange);
        Assert.True(await vhost.Management.GetAsync($"api/queues/{Uri.EscapeDataString(vhost.Name)}/{Topology.ContactChangesQueue}") is { IsSuccessStatusCode: true });
    }

    Task<IConnection> Connect(string user) => BrokerConnection.Connect(Identities.As(vhost.Rabbit, user), $"least-privilege test {user}");

    /// <summary>A publish without confirms; a refused one closes the channel, which the next operation (a passive declare of a built-in exchange) sees.</summary>
    static Func<IChannel, Task> Publish(string exchange) => async channel =>
    {
        await channel.BasicPublishAsync(exchange, "", mandatory: false, new BasicProperties(), Body);
        await channel.ExchangeDeclarePassiveAsync("amq.fanout");
    };

    /// <summary>On a channel of its own, the operation fails with ACCESS_REFUSED (403), naming <paramref name="resource"/> when given.</summary>
    static async Task Refused(IConnection connection, Func<IChannel, Task> operation, string? resource = null)
    {
        await using var channel = await connection.CreateChannelAsync();
        var e = await Assert.ThrowsAnyAsync<Exception>(() => operation(channel));
        var reason = (e as OperationInterruptedException)?.ShutdownReason ?? channel.CloseReason;
        Assert.True(reason?.ReplyCode == 403, $"expected ACCESS_REFUSED (403), got {reason?.ReplyCode}: {e.Message}");
        if (resource is not null)
        {
            Assert.Contains($"'{resource}'", reason!.ReplyText, StringComparison.Ordinal);
        }
    }
}
