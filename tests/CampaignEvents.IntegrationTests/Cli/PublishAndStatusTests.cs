using System.Text.Json;
using CampaignEvents.IntegrationTests.Sync;
using CampaignEvents.TestSupport;
using CampaignEvents.TestSupport.Stack;
using Dapper;
using Xunit;

namespace CampaignEvents.IntegrationTests.Cli;

/// <summary>
/// The upstream helper (`publish --file`) and the operator's view (`status --json`), run as a user
/// runs them: the real command in its own process against a running sync consumer, each as its job
/// (publish as the upstream publisher, status as the monitoring user and the read-only login).
/// </summary>
public sealed class PublishAndStatusTests(IsolatedDatabase database, IsolatedVhost vhost)
    : IClassFixture<IsolatedDatabase>, IClassFixture<IsolatedVhost>
{
    /// <summary>The environment of a command run as <paramref name="job"/> (its broker user and database logins only).</summary>
    Dictionary<string, string?> Environment(Job job, Npgsql.NpgsqlConnectionStringBuilder? source = null)
    {
        var environment = new Dictionary<string, string?>
        {
            ["RabbitMq__VirtualHost"] = vhost.Name,
            ["RabbitMq__Host"] = vhost.Rabbit.Host,
            ["RabbitMq__Port"] = vhost.Rabbit.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RabbitMq__ManagementPort"] = vhost.Rabbit.ManagementPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in Identities.Environment(job, database.Connection, source))
        {
            environment[key] = value;
        }

        return environment;
    }

    [Fact]
    public async Task Publish_sends_valid_lines_to_their_exchanges_and_reports_the_rejected_ones()
    {
        using var host = await SyncHarness.StartSync(database.Connection.ConnectionString, vhost.Rabbit);
        var campaign = Guid.NewGuid();
        var lines = string.Join('\n',
            $$$"""{"eventId":"{{{Guid.NewGuid()}}}","id":"{{{campaign}}}","name":"Published","type":"voice","status":"active","config":{},"version":1,"occurredAt":"2026-11-29T10:00:00Z"}""",
            $$$"""{"eventId":"{{{Guid.NewGuid()}}}","campaignId":"{{{campaign}}}","phoneNumber":"+12015550123","version":2,"occurredAt":"2026-11-29T10:00:01Z","metadata":{"name":"Ada"}}""",
            $$$"""{"eventId":"{{{Guid.NewGuid()}}}","campaignId":"{{{campaign}}}","phoneNumber":"+12015550124","version":3,"occurredAt":"2026-11-29T10:00:02Z","metadata":{"name":"Grace"}}""",
            $$$"""{"eventId":"{{{Guid.NewGuid()}}}","campaignId":"{{{campaign}}}","phoneNumber":"+12015550124","version":4,"occurredAt":"2026-11-29T10:00:03Z"}""",
            """{"eventId": "not-a-guid", "campaignId": 5}""",
            "not json");
        var file = Path.GetTempFileName();
        await File.WriteAllTextAsync(file, lines);
        try
        {
            var result = await CliProcess.Run(["publish", "--file", file], Environment(Job.Publisher));

            Assert.True(result.ExitCode == 2, result.ToString());
            Assert.Contains("accepted 4 (campaign-changed: 1, contact-changed: 2, contact-deleted: 1), rejected 2", result.Output, StringComparison.Ordinal);
            Assert.Contains("line 5: rejected", result.Error, StringComparison.Ordinal);
            Assert.Contains("line 6: rejected: not valid JSON", result.Error, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }

        await Eventually.Until(async () =>
        {
            await using var connection = await database.DataSource.OpenConnectionAsync();
            var phones = (await connection.QueryAsync<string>("SELECT phone_number FROM contacts WHERE campaign_id = @campaign", new { campaign })).ToList();
            return phones.SequenceEqual(["+12015550123"]);
        }, TimeSpan.FromSeconds(30), "the published change applied and the published delete removing the other contact");
    }

    [Fact]
    public async Task The_example_file_of_the_readme_publishes_and_leaves_one_contact()
    {
        using var host = await SyncHarness.StartSync(database.Connection.ConnectionString, vhost.Rabbit);

        var result = await CliProcess.Run(["publish", "--file", Repository.PathOf("examples/events.jsonl")], Environment(Job.Publisher));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("accepted 4", result.Output, StringComparison.Ordinal);
        await Eventually.Until(async () =>
        {
            await using var connection = await database.DataSource.OpenConnectionAsync();
            var phones = (await connection.QueryAsync<string>(
                "SELECT phone_number FROM contacts WHERE campaign_id = '3b9ac9ff-1c2d-4e5f-8a7b-6c5d4e3f2a1b'")).ToList();
            return phones.SequenceEqual(["+33612345678"]);
        }, TimeSpan.FromSeconds(30), "campaign Spring reminders with the one contact +33612345678, as the README says");
    }

    [Fact]
    public async Task Status_reports_campaigns_and_queues_as_json_and_a_missing_source_as_unreachable()
    {
        using var host = await SyncHarness.StartSync(database.Connection.ConnectionString, vhost.Rabbit);
        await using (var connection = await database.DataSource.OpenConnectionAsync())
        {
            var campaign = await connection.ExecuteScalarAsync<Guid>("INSERT INTO campaigns (name, type, status) VALUES ('Status check', 'voice', 'draft') RETURNING id");
            await connection.ExecuteAsync("INSERT INTO contacts (campaign_id, phone_number) VALUES (@campaign, '+12015550123'), (@campaign, '+12015550124')", new { campaign });
        }

        var environment = Environment(Job.Status, new Npgsql.NpgsqlConnectionStringBuilder(database.Connection.ConnectionString) { Database = "no_such_source" });
        // the management API refreshes its consumer counts every few seconds
        CliResult result = null!;
        JsonElement queue = default;
        await Eventually.Until(async () =>
        {
            result = await CliProcess.Run(["status", "--json"], environment);
            queue = JsonDocument.Parse(result.Output).RootElement.GetProperty("queues").EnumerateArray()
                .Single(q => q.GetProperty("name").GetString() == "contact-changes");
            return queue.GetProperty("consumers").GetInt32() >= 1;
        }, TimeSpan.FromSeconds(30), () => $"status never showed the running consumer on contact-changes:\n{result}");

        Assert.True(result.ExitCode == 1, result.ToString());
        var status = JsonDocument.Parse(result.Output).RootElement;
        var campaignStatus = status.GetProperty("campaigns").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "Status check");
        Assert.Equal(2, campaignStatus.GetProperty("localRows").GetInt64());
        Assert.Contains("no_such_source", status.GetProperty("sourceError").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, status.GetProperty("brokerError").ValueKind);
        Assert.True(queue.GetProperty("exists").GetBoolean());
    }
}
