using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using CampaignEvents.Cli.Hosting;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.IntegrationTests.Cli;
using CampaignEvents.TestSupport;
using CampaignEvents.TestSupport.Generators;
using Dapper;
using Npgsql;
using Xunit;

namespace CampaignEvents.IntegrationTests.Hardening;

/// <summary>
/// Encrypted transport (README, Configuration and Hardening checklist): the pipeline runs through a
/// PostgreSQL that refuses plain connections and a RabbitMQ reached by AMQP over TLS with a client
/// certificate, every certificate verified against the test's own CA; a wrong CA stops a command
/// with one line naming the setting.
/// </summary>
[Collection(SecureStackCollection.Name)]
public sealed class TlsTransportTests(SecureStack stack)
{
    [Fact]
    public async Task Contacts_travel_from_source_to_local_over_TLS_only_snapshot_and_stream()
    {
        var vhost = await stack.NewVhost();
        var (local, source) = await stack.NewDatabases();
        var slot = $"ce_tls_{Guid.NewGuid():N}"[..20];
        var settings = stack.Settings(vhost, local, source);
        settings["Source:SlotName"] = slot;
        settings["Source:PublicationName"] = slot;
        settings["Source:HeartbeatInterval"] = "00:00:01";

        await using var sourceDb = NpgsqlDataSource.Create(source);
        var campaign = await Insert(sourceDb, 0, 150);
        using var host = PipelineHost.CreateBuilder([Role.Source, Role.Sync], settings).Build();
        await host.StartAsync();
        try
        {
            // the snapshot, then changes streamed by the replication connection
            await LocalEqualsSource(sourceDb, local);
            await Insert(sourceDb, 150, 50, campaign);
            await sourceDb.CreateCommand($"DELETE FROM contacts WHERE phone_number = '{Phone(3)}'").ExecuteNonQueryAsync();
            await LocalEqualsSource(sourceDb, local);

            // every connection to PostgreSQL, the replication connection included, is TLS
            await using var admin = new NpgsqlConnection(stack.Postgres.ConnectionString);
            await admin.OpenAsync();
            var connections = (await admin.QueryAsync<(string Backend, bool Ssl)>(
                "SELECT a.backend_type, s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.client_addr IS NOT NULL")).ToList();
            Assert.Contains(connections, c => c.Backend == "walsender");
            Assert.All(connections, c => Assert.True(c.Ssl, $"a {c.Backend} connection without TLS"));

            // every connection to the broker is TLS with the client certificate
            using var management = ManagementApi.Client(stack.Rabbit(vhost));
            var amqp = default(JsonElement);
            await Eventually.Until(async () =>
            {
                amqp = await management.GetFromJsonAsync<JsonElement>($"api/vhosts/{vhost}/connections");
                return amqp.GetArrayLength() > 0;
            }, TimeSpan.FromSeconds(30), "the management API lists the pipeline's connections");
            foreach (var connection in amqp.EnumerateArray())
            {
                Assert.True(connection.GetProperty("ssl").GetBoolean(), connection.ToString());
                Assert.Contains("campaign-events", connection.GetProperty("peer_cert_subject").GetString() ?? "", StringComparison.Ordinal);
            }
        }
        finally
        {
            await host.StopAsync();
            await using var admin = new NpgsqlConnection(source.ConnectionString);
            await admin.OpenAsync();
            await admin.ExecuteAsync("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = @slot", new { slot });
        }
    }

    [Fact]
    public async Task A_wrong_CA_for_the_broker_stops_run_with_one_line_naming_RabbitMq_Tls_CaFile()
    {
        var vhost = await stack.NewVhost();
        var (local, source) = await stack.NewDatabases();
        var environment = stack.Environment(vhost, local, source);
        environment["RabbitMq__Tls__CaFile"] = stack.Certificates.OtherCaFile;

        var result = await CliProcess.Run(["run", "--role", "sync"], environment);

        OneLineError.Assert(result, "RabbitMq:Tls:CaFile", stack.RabbitPassword, stack.PostgresPassword);
        Assert.Contains("is not signed by a CA of RabbitMq:Tls:CaFile", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_the_client_certificate_the_broker_that_asks_for_one_stops_run_with_one_line()
    {
        var vhost = await stack.NewVhost();
        var (local, source) = await stack.NewDatabases();
        var environment = stack.Environment(vhost, local, source);
        environment["RabbitMq__Tls__ClientCertificateFile"] = null;
        environment["RabbitMq__Tls__ClientKeyFile"] = null;

        var result = await CliProcess.Run(["run", "--role", "sync"], environment);

        OneLineError.Assert(result, "RabbitMq:Tls:ClientCertificateFile", stack.RabbitPassword, stack.PostgresPassword);
    }

    [Fact]
    public async Task A_wrong_CA_for_PostgreSQL_stops_migrate_with_one_line_naming_the_connection_string()
    {
        var (local, source) = await stack.NewDatabases();
        var environment = stack.Environment(await stack.NewVhost(), local, source);
        environment["ConnectionStrings__Contacts"] = SecureStack.WithoutPassword(
            new NpgsqlConnectionStringBuilder(local.ConnectionString) { RootCertificate = stack.Certificates.OtherCaFile });

        var result = await CliProcess.Run(["migrate"], environment);

        OneLineError.Assert(result, "ConnectionStrings:Contacts", stack.RabbitPassword, stack.PostgresPassword);
        Assert.Contains($"Root Certificate={stack.Certificates.OtherCaFile}", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_reads_the_management_API_over_HTTPS_and_names_a_wrong_CA()
    {
        var vhost = await stack.NewVhost();
        var (local, source) = await stack.NewDatabases();
        var environment = stack.Environment(vhost, local, source);
        Assert.Equal(0, (await CliProcess.Run(["migrate", "--topology"], environment)).ExitCode);

        var good = await CliProcess.Run(["status", "--json"], environment);
        environment["RabbitMq__ManagementCaFile"] = stack.Certificates.OtherCaFile;
        var wrong = await CliProcess.Run(["status", "--json"], environment);

        Assert.True(good.ExitCode == 0, good.ToString());
        var report = JsonNode.Parse(good.Output)!;
        Assert.Null(report["brokerError"]?.GetValue<string>());
        Assert.Contains(report["queues"]!.AsArray(), q => q!["name"]!.GetValue<string>() == "contact-changes" && q["exists"]!.GetValue<bool>());
        Assert.Equal(1, wrong.ExitCode);
        Assert.Contains("RabbitMq:ManagementCaFile", wrong.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(stack.RabbitPassword, good.Output + good.Error + wrong.Output + wrong.Error, StringComparison.Ordinal);
    }

    static string Phone(int i) => $"+1415{2_000_000 + i:D7}";

    static async Task<Guid> Insert(NpgsqlDataSource source, int from, int count, Guid? campaign = null)
    {
        await using var connection = await source.OpenConnectionAsync();
        var id = campaign ?? await connection.ExecuteScalarAsync<Guid>("INSERT INTO campaigns (name, type, status) VALUES ('tls', 'voice', 'active') RETURNING id");
        await connection.ExecuteAsync(
            "INSERT INTO contacts (campaign_id, phone_number, metadata) SELECT @id, p, jsonb_build_object('n', p) FROM unnest(@phones) AS p",
            new { id, phones = Enumerable.Range(from, count).Select(Phone).ToArray() });
        return id;
    }

    static async Task LocalEqualsSource(NpgsqlDataSource source, NpgsqlConnectionStringBuilder local)
    {
        var last = "";
        await Eventually.Until(async () =>
        {
            await using var from = await source.OpenConnectionAsync();
            await using var to = new NpgsqlConnection(local.ConnectionString);
            await to.OpenAsync();
            const string Rows = "SELECT campaign_id, phone_number, metadata::text FROM contacts";
            var wanted = (await from.QueryAsync<(Guid C, string P, string M)>(Rows)).Select(r => new ContactRow(r.C, r.P, JsonNode.Parse(r.M)!.AsObject()));
            var actual = (await to.QueryAsync<(Guid C, string P, string M)>(Rows)).Select(r => new ContactRow(r.C, r.P, JsonNode.Parse(r.M)!.AsObject()));
            try
            {
                return ContactAssert.SameContacts(wanted, actual);
            }
            catch (Xunit.Sdk.XunitException e)
            {
                last = e.Message;
                return false;
            }
        }, TimeSpan.FromSeconds(60), () => $"local contacts never matched the source over TLS: {last}");
    }
}
