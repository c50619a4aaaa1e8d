using CampaignEvents.Infrastructure.Database;
using CampaignEvents.TestSupport;
using CampaignEvents.TestSupport.Stack;
using Xunit;

namespace CampaignEvents.IntegrationTests.Cli;

/// <summary>
/// What an operator meets when a setting is wrong: one line naming the setting, exit code 1,
/// never a stack trace, never the password. And migrate is safe to run twice.
/// </summary>
public sealed class SettingsErrorTests(IsolatedSourceDatabase empty) : IClassFixture<IsolatedSourceDatabase>
{
    const string Secret = "s3cret-Passw0rd";

    static void AssertOneLineError(CliResult result, string mentions) => OneLineError.Assert(result, mentions, Secret);

    [Fact]
    public async Task Migrate_applies_each_migration_once_and_says_which()
    {
        var environment = new Dictionary<string, string?> { ["ConnectionStrings__Contacts"] = empty.Connection.ConnectionString };

        var first = await CliProcess.Run(["migrate"], environment);
        var second = await CliProcess.Run(["migrate"], environment);

        Assert.True(first.ExitCode == 0, first.ToString());
        foreach (var migration in Migrator.Known())
        {
            Assert.Contains($"applied {migration}", first.Output, StringComparison.Ordinal);
        }

        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.DoesNotContain("applied 0", second.Output, StringComparison.Ordinal);
        Assert.Contains("up to date", second.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_database_that_does_not_exist_is_named_without_the_password()
    {
        var result = await CliProcess.Run(["migrate"], new Dictionary<string, string?>
        {
            ["ConnectionStrings__Contacts"] = $"Host=127.0.0.1;Port={empty.Connection.Port};Database=no_such_db;Username={empty.Connection.Username};Password={Secret}",
        });

        AssertOneLineError(result, "ConnectionStrings:Contacts");
    }

    [Fact]
    public async Task A_missing_connection_string_is_named()
    {
        var result = await CliProcess.Run(["migrate"], new Dictionary<string, string?> { ["ConnectionStrings__Contacts"] = "" });

        AssertOneLineError(result, "ConnectionStrings:Contacts is missing");
    }

    [Fact]
    public async Task A_wrong_broker_password_stops_run_with_one_line()
    {
        var result = await CliProcess.Run(["run", "--role", "sync"], new Dictionary<string, string?>
        {
            ["ConnectionStrings__Contacts"] = empty.Connection.ConnectionString,
            // another run on the machine may hold the default ports: its warnings are not the line under test
            ["Observability__MetricsPort"] = "0",
            ["Observability__HealthPort"] = "0",
            ["RabbitMq__Password"] = Secret,
        });

        AssertOneLineError(result, "RabbitMq:Password");
    }

    [Fact]
    public async Task With_the_database_and_the_broker_both_wrong_run_names_the_database_first()
    {
        // the preflight asks both at once; the line is still the database's, as when asked in turn
        var result = await CliProcess.Run(["run", "--role", "sync"], new Dictionary<string, string?>
        {
            ["ConnectionStrings__Contacts"] = $"Host=127.0.0.1;Port={empty.Connection.Port};Database=no_such_db;Username={empty.Connection.Username};Password={Secret}",
            ["Observability__MetricsPort"] = "0",
            ["Observability__HealthPort"] = "0",
            ["RabbitMq__Password"] = Secret,
        });

        AssertOneLineError(result, "ConnectionStrings:Contacts");
        Assert.DoesNotContain("RabbitMq", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_broker_vhost_that_does_not_exist_stops_run_with_one_line()
    {
        var result = await CliProcess.Run(["run", "--role", "sync"], new Dictionary<string, string?>
        {
            ["ConnectionStrings__Contacts"] = empty.Connection.ConnectionString,
            // another run on the machine may hold the default ports: its warnings are not the line under test
            ["Observability__MetricsPort"] = "0",
            ["Observability__HealthPort"] = "0",
            ["RabbitMq__VirtualHost"] = "no-such-vhost",
        });

        AssertOneLineError(result, "RabbitMq:VirtualHost");
    }

    [Fact]
    public async Task A_bad_broker_hosts_entry_stops_run_with_one_line()
    {
        var result = await CliProcess.Run(["run", "--role", "sync"], new Dictionary<string, string?>
        {
            ["ConnectionStrings__Contacts"] = empty.Connection.ConnectionString,
            // another run on the machine may hold the default ports: its warnings are not the line under test
            ["Observability__MetricsPort"] = "0",
            ["Observability__HealthPort"] = "0",
            ["RabbitMq__Hosts"] = "127.0.0.1:5681,127.0.0.1:not-a-port",
            ["RabbitMq__Password"] = Secret,
        });

        AssertOneLineError(result, "RabbitMq:Hosts");
    }
}
