using System.Text.Json;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.TestSupport;
using CampaignEvents.TestSupport.Stack;
using Xunit;

namespace CampaignEvents.IntegrationTests.Cli;

/// <summary>
/// Every command reads its settings one way (Infrastructure's <c>Settings</c>): the same sources,
/// <c>appsettings.{Environment}.json</c> included, and the same validation, so a wrong setting is the
/// same one line whichever command meets it.
/// </summary>
public sealed class OneSettingsPathTests(IsolatedDatabase database, IsolatedVhost vhost)
    : IClassFixture<IsolatedDatabase>, IClassFixture<IsolatedVhost>
{
    const string Secret = "s3cret-Passw0rd-of-settings";

    static readonly string[][] Commands =
    [
        ["status"],
        ["errors", "show"],
        ["publish", "--file", Repository.PathOf("examples/events.jsonl")],
        ["reconcile", "--all"],
        ["run", "--role", "sync"],
    ];

    [Theory]
    [InlineData("RabbitMq__Port", "abc", "error: setting RabbitMq:Port is not a valid whole number")]
    [InlineData("RabbitMq__Hosts", "127.0.0.1:5681,bad/host", "error: setting RabbitMq:Hosts has a bad entry 'bad/host'")]
    [InlineData("RabbitMq__ManagementPort", "0", "error: setting RabbitMq:ManagementPort must be between 1 and 65535")]
    public async Task A_bad_broker_setting_is_the_same_one_line_from_status_errors_publish_reconcile_and_run(string variable, string value, string line)
    {
        var environment = new Dictionary<string, string?>
        {
            ["ConnectionStrings__Contacts"] = database.Connection.ConnectionString,
            ["RabbitMq__VirtualHost"] = vhost.Name,
            ["RabbitMq__Password"] = Secret,
            ["Observability__MetricsPort"] = "0",
            ["Observability__HealthPort"] = "0",
            [variable] = value,
        };

        var results = await Task.WhenAll(Commands.Select(command => CliProcess.Run(command, environment)));

        foreach (var result in results)
        {
            OneLineError.Assert(result, variable.Replace("__", ":", StringComparison.Ordinal), Secret);
            Assert.StartsWith(line, result.Error, StringComparison.Ordinal);
        }

        Assert.Single(results.Select(r => r.Error.Trim()).Distinct());
    }

    [Fact]
    public async Task A_command_other_than_run_reads_appsettings_of_its_environment()
    {
        // beside the program, as an operator places it; a name of its own, so nothing else reads it
        var name = $"Test{Guid.NewGuid():N}";
        var file = Path.Combine(Path.GetDirectoryName(CliProcess.Dll)!, $"appsettings.{name}.json");
        await File.WriteAllTextAsync(file, JsonSerializer.Serialize(new
        {
            ConnectionStrings = new { Contacts = database.Connection.ConnectionString },
            RabbitMq = new { VirtualHost = vhost.Name },
        }));
        try
        {
            // only the file names the database and the vhost: the environment's values are taken away
            var result = await CliProcess.Run(["migrate", "--topology"], new Dictionary<string, string?>
            {
                ["DOTNET_ENVIRONMENT"] = name,
                ["ConnectionStrings__Contacts"] = null,
                ["RabbitMq__VirtualHost"] = null,
            });

            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Contains($"Database={database.Connection.Database}", result.Output, StringComparison.Ordinal);
            Assert.Contains($"/{vhost.Name} as ", result.Output, StringComparison.Ordinal);
            var queue = await vhost.Management.GetAsync($"api/queues/{vhost.Name}/{Topology.ContactChangesQueue}");
            Assert.True(queue.IsSuccessStatusCode, $"the topology was not declared in {vhost.Name}: {queue.StatusCode}");
        }
        finally
        {
            File.Delete(file);
        }
    }
}
