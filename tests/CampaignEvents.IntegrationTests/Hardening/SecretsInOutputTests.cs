using System.Globalization;
using CampaignEvents.IntegrationTests.Cli;
using CampaignEvents.TestSupport;
using Dapper;
using Npgsql;
using Xunit;

namespace CampaignEvents.IntegrationTests.Hardening;

/// <summary>
/// Secrets from files (README, Configuration and Hardening checklist): every command reads its
/// passwords from a key-per-file folder or <c>*_FILE</c> variables, and no password ever reaches
/// what a process prints — the demo, a running pipeline logging at Debug, publish, reconcile,
/// status, errors, and the failure paths (a wrong password, a server that is down).
/// </summary>
[Collection(SecureStackCollection.Name)]
public sealed class SecretsInOutputTests(SecureStack stack)
{
    readonly List<(string What, string Text)> printed = [];

    string[] Secrets => [stack.PostgresPassword, stack.RabbitPassword, WrongPassword];

    static readonly string WrongPassword = $"wrong-{Guid.NewGuid():N}"[..22];

    async Task<CliResult> Run(string what, string[] arguments, IReadOnlyDictionary<string, string?> environment, TimeSpan? timeout = null)
    {
        var result = await CliProcess.Run(arguments, environment, timeout: timeout);
        printed.Add((what, result.Output + result.Error));
        return result;
    }

    void AssertNoSecretPrinted()
    {
        Assert.NotEmpty(printed);
        foreach (var (what, text) in printed)
        {
            foreach (var secret in Secrets)
            {
                Assert.False(text.Contains(secret, StringComparison.Ordinal), $"{what} printed a password:\n{text}");
            }
        }
    }

    [Fact]
    public async Task The_demo_a_running_pipeline_publish_and_reconcile_never_print_a_password()
    {
        var vhost = await stack.NewVhost();
        var (local, source) = await stack.NewDatabases();
        var environment = stack.Environment(vhost, local, source);
        Assert.DoesNotContain(environment.Values, v => v is not null && Secrets.Any(s => v.Contains(s, StringComparison.Ordinal)));

        var demo = await Run("demo", ["demo", "--contacts", "2000", "--campaigns", "2", "--churn-seconds", "3", "--timeout-seconds", "240"], environment, TimeSpan.FromMinutes(5));
        Assert.True(demo.ExitCode == 0, demo.ToString());

        // the pipeline as a service, logging everything it can (JSON lines: the output is redirected)
        // (the demo dropped its slot when it ended: the service takes a new snapshot)
        var service = new Dictionary<string, string?>(environment) { ["Logging__LogLevel__Default"] = "Debug", ["Source__RecreateSlot"] = "true" };
        await using (var pipeline = RunProcess.Start(["run"], service))
        {
            await using var sourceDb = NpgsqlDataSource.Create(source);
            var campaign = await sourceDb.CreateCommand("SELECT id FROM campaigns LIMIT 1").ExecuteScalarAsync();
            await sourceDb.CreateCommand($"INSERT INTO contacts (campaign_id, phone_number, metadata) VALUES ('{campaign}', '+14155550999', '{{}}')").ExecuteNonQueryAsync();
            await Eventually.Until(async () =>
            {
                await using var connection = new NpgsqlConnection(local.ConnectionString);
                await connection.OpenAsync();
                return await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM contacts WHERE phone_number = '+14155550999'") == 1;
            }, TimeSpan.FromSeconds(60), () => $"the running pipeline synced the new contact{pipeline}");

            var events = Path.GetTempFileName();
            await File.WriteAllTextAsync(events, $$"""{"eventId":"{{Guid.NewGuid()}}","campaignId":"{{campaign}}","phoneNumber":"+14155550999","version":1,"occurredAt":"2026-11-29T10:00:00Z"}""" + "\n");
            Assert.Equal(0, (await Run("publish", ["publish", "--file", events], environment)).ExitCode);
            File.Delete(events);
            var reconcile = await Run("reconcile", ["reconcile", "--all", "--timeout", "60"], environment, TimeSpan.FromMinutes(2));
            Assert.True(reconcile.ExitCode is 0 or 2, reconcile.ToString());
            await Run("status", ["status"], environment);
            await Run("errors show", ["errors", "show"], environment);
            Assert.Equal(0, await pipeline.Stop());
            printed.Add(("run", pipeline.ToString()));
            Assert.Contains("\"LogLevel\":\"Debug\"", pipeline.Output, StringComparison.Ordinal);
        }

        AssertNoSecretPrinted();
    }

    [Fact]
    public async Task Failures_name_the_setting_and_never_print_a_password()
    {
        var vhost = await stack.NewVhost();
        var (local, source) = await stack.NewDatabases();
        var environment = stack.Environment(vhost, local, source);
        var closedPort = RunProcess.FreePort().ToString(CultureInfo.InvariantCulture);

        // a wrong broker password, given as a plain variable
        var wrongBroker = await Run("run, wrong broker password", ["run", "--role", "sync"], new Dictionary<string, string?>(environment)
        {
            [Infrastructure.Configuration.SecretFiles.DirectoryVariable] = null,
            ["DatabasePasswords__Contacts"] = stack.PostgresPassword,
            ["RabbitMq__Password"] = WrongPassword,
        });
        OneLineError.Assert(wrongBroker, "RabbitMq:Password", Secrets);

        // a wrong database password, in the connection string itself
        var wrongDatabase = await Run("migrate, wrong database password", ["migrate"], new Dictionary<string, string?>(environment)
        {
            [Infrastructure.Configuration.SecretFiles.DirectoryVariable] = null,
            ["ConnectionStrings__Contacts"] = new NpgsqlConnectionStringBuilder(local.ConnectionString) { Password = WrongPassword }.ConnectionString,
        });
        OneLineError.Assert(wrongDatabase, "ConnectionStrings:Contacts", Secrets);

        // the database server down
        var databaseDown = await Run("migrate, database down", ["migrate"], new Dictionary<string, string?>(environment)
        {
            ["ConnectionStrings__Contacts"] = new NpgsqlConnectionStringBuilder(local.ConnectionString) { Port = int.Parse(closedPort, CultureInfo.InvariantCulture) }.ConnectionString,
        });
        OneLineError.Assert(databaseDown, "ConnectionStrings:Contacts", Secrets);

        // the broker down
        var brokerDown = await Run("publish, broker down", ["publish", "--file", Repository.PathOf("examples/events.jsonl")], new Dictionary<string, string?>(environment)
        {
            ["RabbitMq__Port"] = closedPort,
        });
        OneLineError.Assert(brokerDown, "RabbitMq", Secrets);

        // a *_FILE variable naming a file that is not there
        var missingFile = await Run("publish, missing secret file", ["publish", "--file", Repository.PathOf("examples/events.jsonl")], new Dictionary<string, string?>(environment)
        {
            [Infrastructure.Configuration.SecretFiles.DirectoryVariable] = null,
            ["RabbitMq__Password_FILE"] = "/nonexistent/rabbitmq-password",
        });
        OneLineError.Assert(missingFile, "RabbitMq__Password_FILE", Secrets);

        AssertNoSecretPrinted();
    }

    [Fact]
    public async Task Passwords_come_from_FILE_variables_without_a_secrets_folder()
    {
        var vhost = await stack.NewVhost();
        var (local, source) = await stack.NewDatabases();
        var environment = new Dictionary<string, string?>(stack.Environment(vhost, local, source))
        {
            [Infrastructure.Configuration.SecretFiles.DirectoryVariable] = null,
            ["RabbitMq__Password_FILE"] = stack.RabbitPasswordFile,
            ["DatabasePasswords__Contacts_FILE"] = stack.PostgresPasswordFile,
            ["DatabasePasswords__Source_FILE"] = stack.PostgresPasswordFile,
        };

        var migrate = await Run("migrate", ["migrate", "--topology"], environment);
        var status = await Run("status", ["status", "--json"], environment);

        Assert.True(migrate.ExitCode == 0, migrate.ToString());
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Contains("\"contact-changes\"", status.Output, StringComparison.Ordinal);
        AssertNoSecretPrinted();
    }
}
