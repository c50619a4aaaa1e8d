using CampaignEvents.IntegrationTests.Cli;
using CampaignEvents.TestSupport;
using CampaignEvents.TestSupport.Stack;
using Dapper;
using Xunit;

namespace CampaignEvents.IntegrationTests.Hardening;

/// <summary>
/// Personal data in logs (README, Hardening checklist): a running sync consumer, logging at Debug,
/// takes good contacts and bad ones whose reason quotes the phone; its logs hold the masked numbers
/// only, the error queue keeps them whole for the operator, and Observability:MaskPhoneNumbers=false
/// logs them whole (for debugging).
/// </summary>
public sealed class PhoneMaskingTests(IsolatedDatabase database, IsolatedVhost vhost)
    : IClassFixture<IsolatedDatabase>, IClassFixture<IsolatedVhost>
{
    const string TooLong = "+44791112345678";
    const string National = "07911 123456";
    const string Good = "+12015550123";

    [Fact]
    public async Task Logs_hold_masked_phone_numbers_and_the_error_queue_the_whole_ones()
    {
        var logs = await RunAndPublish(mask: true, campaign: Guid.NewGuid());

        foreach (var phone in new[] { TooLong, National, Good })
        {
            Assert.False(logs.Contains(phone, StringComparison.Ordinal), $"the logs hold {phone} unmasked:\n{logs}");
        }

        Assert.Contains("+44**********78", logs, StringComparison.Ordinal);
        Assert.Contains("07*** ****56", logs, StringComparison.Ordinal);

        var errors = await CliProcess.Run(["errors", "show"], Environment());
        Assert.Contains(TooLong, errors.Output, StringComparison.Ordinal);
        Assert.Contains(National, errors.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Masking_switched_off_logs_the_whole_numbers()
    {
        var logs = await RunAndPublish(mask: false, campaign: Guid.NewGuid());

        Assert.Contains(TooLong, logs, StringComparison.Ordinal);
        Assert.Contains(National, logs, StringComparison.Ordinal);
    }

    /// <summary>The environment of <c>publish</c>, as the upstream publisher.</summary>
    Dictionary<string, string?> PublisherEnvironment()
    {
        var environment = Environment();
        foreach (var (key, value) in Identities.Environment(Job.Publisher, database.Connection, null))
        {
            environment[key] = value;
        }

        return environment;
    }

    /// <summary>The environment of the administrator's <c>errors</c>.</summary>
    Dictionary<string, string?> Environment() => new()
    {
        ["ConnectionStrings__Contacts"] = database.Connection.ConnectionString,
        ["RabbitMq__VirtualHost"] = vhost.Name,
        ["RabbitMq__Host"] = vhost.Rabbit.Host,
        ["RabbitMq__Port"] = vhost.Rabbit.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["RabbitMq__ManagementPort"] = vhost.Rabbit.ManagementPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["RabbitMq__Username"] = vhost.Rabbit.Username,
        ["RabbitMq__Password"] = vhost.Rabbit.Password,
    };

    /// <summary>Runs the sync role as a process, publishes a campaign, a good contact and two bad ones, waits for both outcomes, stops it: what it logged.</summary>
    async Task<string> RunAndPublish(bool mask, Guid campaign)
    {
        var errorsBefore = await vhost.MessagesReady("contact-changes_error");
        await using var run = await RunProcess.Start(database, vhost, new Dictionary<string, string?>
        {
            ["Logging__LogLevel__Default"] = "Debug",
            ["Observability__MaskPhoneNumbers"] = mask ? null : "false",
            ["Observability__MetricsPort"] = "0",
            ["Observability__HealthPort"] = "0",
        });
        var file = Path.GetTempFileName();
        await File.WriteAllLinesAsync(file,
        [
            $$$"""{"eventId":"{{{Guid.NewGuid()}}}","id":"{{{campaign}}}","name":"Masking","type":"voice","status":"active","config":{},"version":1,"occurredAt":"2026-11-29T10:00:00Z"}""",
            $$$"""{"eventId":"{{{Guid.NewGuid()}}}","campaignId":"{{{campaign}}}","phoneNumber":"{{{Good}}}","version":2,"occurredAt":"2026-11-29T10:00:01Z","metadata":{"name":"Ada"}}""",
            $$$"""{"eventId":"{{{Guid.NewGuid()}}}","campaignId":"{{{campaign}}}","phoneNumber":"{{{TooLong}}}","version":3,"occurredAt":"2026-11-29T10:00:02Z","metadata":{}}""",
            $$$"""{"eventId":"{{{Guid.NewGuid()}}}","campaignId":"{{{campaign}}}","phoneNumber":"{{{National}}}","version":4,"occurredAt":"2026-11-29T10:00:03Z","metadata":{}}""",
        ]);
        try
        {
            // publish once the consumer is there (its queue declared), so the lines are not returned as unroutable
            await Eventually.Until(async () => (await CliProcess.Run(["publish", "--file", file], PublisherEnvironment())).ExitCode == 0,
                TimeSpan.FromSeconds(60), () => $"publish accepted every line{run}");
        }
        finally
        {
            File.Delete(file);
        }

        await Eventually.Until(async () =>
        {
            await using var connection = await database.DataSource.OpenConnectionAsync();
            return await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM contacts WHERE campaign_id = @campaign", new { campaign }) == 1
                && await vhost.MessagesReady("contact-changes_error") == errorsBefore + 2;
        }, TimeSpan.FromSeconds(60), () => $"the good contact applied and the two bad ones in the error queue{run}");
        Assert.Equal(0, await run.Stop());
        Assert.Contains("\"LogLevel\":\"Error\"", run.Output, StringComparison.Ordinal);
        return Decoded(run.Output) + run.Error;
    }

    /// <summary>Every string of every JSON log line, unescaped (the JSON writer escapes + and ', a log collector reads them back).</summary>
    static string Decoded(string jsonLines)
    {
        var text = new System.Text.StringBuilder();
        foreach (var line in jsonLines.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            using var json = System.Text.Json.JsonDocument.Parse(line);
            Collect(json.RootElement, text);
            text.AppendLine();
        }

        return text.ToString();

        static void Collect(System.Text.Json.JsonElement element, System.Text.StringBuilder text)
        {
            switch (element.ValueKind)
            {
                case System.Text.Json.JsonValueKind.Object:
                    foreach (var property in element.EnumerateObject())
                    {
                        Collect(property.Value, text);
                    }

                    break;
                case System.Text.Json.JsonValueKind.Array:
                    foreach (var item in element.EnumerateArray())
                    {
                        Collect(item, text);
                    }

                    break;
                case System.Text.Json.JsonValueKind.String:
                    text.Append(element.GetString()).Append(' ');
                    break;
            }
        }
    }
}
