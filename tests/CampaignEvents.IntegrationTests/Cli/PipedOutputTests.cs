using System.Diagnostics;
using System.Text.Json;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.IntegrationTests.Sync;
using CampaignEvents.TestSupport;
using CampaignEvents.TestSupport.Stack;
using Dapper;
using Microsoft.Extensions.Hosting;
using Xunit;

namespace CampaignEvents.IntegrationTests.Cli;

/// <summary>
/// A local database with a campaign whose name is longer than a column of an 80-column table, a
/// running sync consumer, and two messages in <c>contact-changes_error</c> whose bodies span
/// several lines (one holds a raw ESC character).
/// </summary>
public sealed class PipedOutputWorld : IAsyncLifetime
{
    public const string LongName = "Spring renewal reminders for the north-west region, second wave (Émilie's list)";

    public IsolatedDatabase Database { get; } = new();

    public IsolatedVhost Vhost { get; } = new();

    public Guid Campaign { get; private set; }

    /// <summary>The bodies published, each refused by the sync consumer.</summary>
    public string[] BadBodies { get; private set; } = [];

    IHost? host;

    /// <summary>The environment of <c>status</c>, as its job (the monitoring user, the read-only login).</summary>
    public Dictionary<string, string?> StatusEnvironment
    {
        get
        {
            var environment = Environment;
            foreach (var (key, value) in Identities.Environment(Job.Status, Database.Connection, Database.Connection))
            {
                environment[key] = value;
            }

            return environment;
        }
    }

    /// <summary>The environment of the administrator's commands (<c>errors</c>).</summary>
    public Dictionary<string, string?> Environment => new()
    {
        ["ConnectionStrings__Contacts"] = Database.Connection.ConnectionString,
        // a source that answers, with a slot of this test's own that does not exist
        ["ConnectionStrings__Source"] = Database.Connection.ConnectionString,
        ["Source__SlotName"] = $"piped_{Vhost.Name.Replace('-', '_')}",
        ["RabbitMq__VirtualHost"] = Vhost.Name,
        ["RabbitMq__Host"] = Vhost.Rabbit.Host,
        ["RabbitMq__Port"] = Vhost.Rabbit.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["RabbitMq__ManagementPort"] = Vhost.Rabbit.ManagementPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["RabbitMq__Username"] = Vhost.Rabbit.Username,
        ["RabbitMq__Password"] = Vhost.Rabbit.Password,
    };

    public async ValueTask InitializeAsync()
    {
        await Database.InitializeAsync();
        await Vhost.InitializeAsync();
        host = await SyncHarness.StartSync(Database.Connection.ConnectionString, Vhost.Rabbit);
        await using (var connection = await Database.DataSource.OpenConnectionAsync())
        {
            Campaign = await connection.ExecuteScalarAsync<Guid>("INSERT INTO campaigns (name, type, status) VALUES (@LongName, 'voice', 'active') RETURNING id", new { LongName });
            await connection.ExecuteAsync(
                "INSERT INTO contacts (campaign_id, phone_number, version) VALUES (@Campaign, '+12015550101', 1), (@Campaign, '+12015550102', 1), (@Campaign, '+12015550103', 1)",
                new { Campaign });
        }

        BadBodies =
        [
            // a phone that is not a valid number, pretty-printed as many publishers write JSON
            $$"""
            {
              "eventId": "{{Guid.NewGuid()}}",
              "campaignId": "{{Campaign}}",
              "phoneNumber": "+1999",
              "version": 5,
              "occurredAt": "2026-12-01T10:00:00Z",
              "metadata": { "name": "Ada" }
            }
            """,
            // not JSON at all: a raw ESC (a control character JSON does not allow) that would colour a terminal
            $$"""
            {
              "eventId": "{{Guid.NewGuid()}}",
              "campaignId": "{{Campaign}}",
              "phoneNumber": "+12015550104",
              "version": 6,
              "occurredAt": "2026-12-01T10:00:01Z",
              "metadata": { "name": "ESC[31mred" }
            }
            """.Replace("ESC", "\u001b", StringComparison.Ordinal),
        ];
        await using var broker = await SyncHarness.Connect(Vhost.Rabbit);
        await SyncHarness.PublishRaw(broker, BadBodies.Select(b => (Topology.ContactChangedExchange, b)));
        await Eventually.Until(
            async () => (await SyncHarness.Peek(Vhost, Topology.ErrorQueue(Topology.ContactChangesQueue))).Count == BadBodies.Length,
            TimeSpan.FromSeconds(30),
            () => $"both bad messages in contact-changes_error; ready in contact-changes: {Vhost.MessagesReady(Topology.ContactChangesQueue).GetAwaiter().GetResult()}, error: {string.Join(" | ", SyncHarness.Peek(Vhost, Topology.ErrorQueue(Topology.ContactChangesQueue)).GetAwaiter().GetResult().Select(m => m.Header("MT-Fault-Message")))}");
    }

    public async ValueTask DisposeAsync()
    {
        if (host is not null)
        {
            await host.StopAsync();
            host.Dispose();
        }

        await Vhost.DisposeAsync();
        await Database.DisposeAsync();
    }
}

/// <summary>
/// Piped into a file or a CI log, <c>status</c> and <c>errors show</c> print one line per row,
/// never wrapped, without ANSI escapes; <c>--json</c> prints the fields docs/json-output.md lists.
/// The real command runs in its own process with its output redirected, as in CI.
/// </summary>
public sealed class PipedOutputTests(PipedOutputWorld world) : IClassFixture<PipedOutputWorld>
{
    const string Esc = "\u001b";

    [Fact]
    public async Task Status_piped_prints_each_campaign_and_each_queue_on_one_line_without_ANSI()
    {
        var errorQueue = Topology.ErrorQueue(Topology.ContactChangesQueue);
        // the management API refreshes its queue counts every few seconds
        CliResult result = null!;
        await Eventually.Until(async () =>
        {
            result = await CliProcess.Run(["status"], world.StatusEnvironment);
            return RowOf(result.Output, errorQueue) is { } row && row.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1] == "2";
        }, TimeSpan.FromSeconds(30), () => $"status never showed 2 messages ready in {errorQueue} on its line:\n{result}");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.DoesNotContain(Esc, result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("│", result.Output, StringComparison.Ordinal);
        var campaignLines = Lines(result.Output).Where(l => l.Contains(world.Campaign.ToString(), StringComparison.Ordinal)).ToList();
        var campaignLine = Assert.Single(campaignLines);
        Assert.StartsWith($"{world.Campaign}  {PipedOutputWorld.LongName}  3  ", campaignLine, StringComparison.Ordinal);

        // every queue the JSON lists is one line: its name first, then its ready count
        var json = await CliProcess.Run(["status", "--json"], world.StatusEnvironment);
        foreach (var queue in JsonDocument.Parse(json.Output).RootElement.GetProperty("queues").EnumerateArray())
        {
            var name = queue.GetProperty("name").GetString()!;
            var row = RowOf(result.Output, name);
            Assert.True(row is not null, $"no line for queue {name}:\n{result.Output}");
            var ready = queue.GetProperty("exists").GetBoolean() ? queue.GetProperty("ready").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture) : "(not declared yet)";
            Assert.StartsWith($"{name} ", row, StringComparison.Ordinal);
            Assert.Equal(ready, row[name.Length..].TrimStart().Split("  ")[0]);
        }
    }

    [Fact]
    public async Task Status_json_has_exactly_the_documented_fields()
    {
        var result = await CliProcess.Run(["status", "--json"], world.StatusEnvironment);

        Assert.True(result.ExitCode == 0, result.ToString());
        var status = JsonDocument.Parse(result.Output).RootElement;
        Assert.Equal(JsonFields.DocumentedFor("status", status), JsonFields.Of(status));
        var campaign = status.GetProperty("campaigns").EnumerateArray().Single();
        Assert.Equal(world.Campaign, campaign.GetProperty("id").GetGuid());
        Assert.Equal(PipedOutputWorld.LongName, campaign.GetProperty("name").GetString());
        Assert.Equal(3, campaign.GetProperty("localRows").GetInt64());
        Assert.False(status.GetProperty("slot").GetProperty("exists").GetBoolean());
        Assert.True(status.GetProperty("reachable").GetBoolean());
    }

    [Fact]
    public async Task Errors_show_piped_prints_one_tab_separated_line_per_message_with_the_body_escaped()
    {
        var result = await CliProcess.Run(["errors", "show"], world.Environment);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.DoesNotContain(Esc, result.Output, StringComparison.Ordinal);
        var lines = Lines(result.Output);
        Assert.Equal(world.BadBodies.Length + 1, lines.Count);
        Assert.Equal("2 message(s) in contact-changes_error", lines[^1]);
        var rows = lines[..^1].Select(l => l.Split('\t')).ToList();
        Assert.All(rows, row => Assert.Equal(4, row.Length));
        Assert.Equal(["1", "2"], rows.Select(r => r[0]));
        Assert.All(rows, row => Assert.False(string.IsNullOrWhiteSpace(row[2]), $"no reason in {string.Join(" | ", row)}"));
        var escaped = world.BadBodies.Select(b => b.Replace("\n", @"\n", StringComparison.Ordinal).Replace(Esc, @"\u001b", StringComparison.Ordinal)).Order(StringComparer.Ordinal);
        Assert.Equal(escaped, rows.Select(r => r[3]).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Errors_show_json_has_the_documented_fields_and_the_whole_bodies()
    {
        var result = await CliProcess.Run(["errors", "show", "--json"], world.Environment);

        Assert.True(result.ExitCode == 0, result.ToString());
        var shown = JsonDocument.Parse(result.Output).RootElement;
        Assert.Equal(JsonFields.DocumentedFor("errors-show", shown), JsonFields.Of(shown));
        Assert.Equal("contact-changes_error", shown.GetProperty("queue").GetString());
        Assert.Equal(2, shown.GetProperty("waiting").GetInt32());
        var messages = shown.GetProperty("messages").EnumerateArray().ToList();
        Assert.Equal(world.BadBodies.Order(StringComparer.Ordinal), messages.Select(m => m.GetProperty("body").GetString()!).Order(StringComparer.Ordinal));
        Assert.All(messages, m => Assert.False(string.IsNullOrEmpty(m.GetProperty("reason").GetString())));
        Assert.All(messages, m => Assert.True(DateTimeOffset.TryParse(m.GetProperty("faultedAt").GetString(), System.Globalization.CultureInfo.InvariantCulture, out _)));

        // read, not taken: the messages are still there
        Assert.Equal(2, (await SyncHarness.Peek(world.Vhost, Topology.ErrorQueue(Topology.ContactChangesQueue))).Count);
    }

    [Fact]
    public async Task On_a_terminal_status_still_draws_its_tables()
    {
        // script(1) gives the command a pseudo-terminal, as a person's shell would, wide enough for the whole table
        var dotnet = string.Join(' ', CliProcess.StartInfo(["status"]).ArgumentList.Prepend("dotnet").Select(Quote));
        var info = new ProcessStartInfo("script", ["-qec", $"stty cols 400; {dotnet}", "/dev/null"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in world.StatusEnvironment)
        {
            info.Environment[key] = value;
        }

        info.Environment["TERM"] = "xterm-256color";
        using var process = Process.Start(info)!;
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(deadline.Token);

        var text = await output;
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}\n{text}\n{await process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken)}");
        Assert.Contains("│", text, StringComparison.Ordinal);
        Assert.Contains($"│ {world.Campaign} │ {PipedOutputWorld.LongName} │", text, StringComparison.Ordinal);
    }

    static string Quote(string arg) => $"'{arg.Replace("'", "'\\''", StringComparison.Ordinal)}'";

    static List<string> Lines(string output) => [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r'))];

    /// <summary>The line of the table row whose first cell is <paramref name="name"/>.</summary>
    static string? RowOf(string output, string name) => Lines(output).FirstOrDefault(l => l.StartsWith(name + " ", StringComparison.Ordinal));
}
