using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using CampaignEvents.TestSupport;
using CampaignEvents.TestSupport.Stack;
using Xunit;

namespace CampaignEvents.IntegrationTests.Cli;

/// <summary>
/// A container-style run: health and metrics on all interfaces (the image's
/// Observability__ListenAddress=0.0.0.0) answer on 127.0.0.2, which only a listener on all
/// interfaces answers; the default stays on 127.0.0.1; `campaign-events health` (the image's
/// HEALTHCHECK) agrees; the JSON logs carry a UTC timestamp and a level on every line.
/// </summary>
public sealed partial class ContainerProbeTests
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")]
    private static partial Regex IsoUtc();

    static Task<HttpStatusCode?> Status(string url) => RunProcess.Status(url);

    static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    [Fact]
    public async Task Run_bound_to_all_interfaces_answers_readyz_and_metrics_on_another_loopback_address()
    {
        await using var database = new IsolatedDatabase();
        await database.InitializeAsync();
        await using var vhost = new IsolatedVhost();
        await vhost.InitializeAsync();
        var (metrics, health) = (RunProcess.FreePort(), RunProcess.FreePort());
        await using var run = await RunProcess.Start(database, vhost, new Dictionary<string, string?>
        {
            ["Observability__ListenAddress"] = "0.0.0.0",
            ["Observability__MetricsPort"] = Port(metrics),
            ["Observability__HealthPort"] = Port(health),
        });

        await Eventually.Until(async () => await Status($"http://127.0.0.2:{health}/readyz") == HttpStatusCode.OK, Deadline, () => $"/readyz 200 on 127.0.0.2:{health}; the process wrote:\n{run}");
        Assert.Equal(HttpStatusCode.OK, await Status($"http://127.0.0.2:{health}/healthz"));
        using (var scrape = await Http.GetAsync($"http://127.0.0.2:{metrics}/metrics"))
        {
            Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
            Assert.StartsWith("text/plain", scrape.Content.Headers.ContentType?.MediaType ?? "", StringComparison.Ordinal);
        }

        // the image's HEALTHCHECK: the program asks /readyz itself (here on 127.0.0.1, its default, and on 127.0.0.2)
        var probe = await CliProcess.Run(["health"], new Dictionary<string, string?> { ["Observability__HealthPort"] = Port(health) });
        Assert.True(probe.ExitCode == 0, probe.ToString());
        var other = await CliProcess.Run(["health", "--url", $"http://127.0.0.2:{health}/readyz"]);
        Assert.True(other.ExitCode == 0, other.ToString());

        Assert.Equal(0, await run.Stop());
    }

    [Fact]
    public async Task Run_by_default_serves_loopback_only_and_logs_JSON_lines_with_a_UTC_timestamp_and_a_level()
    {
        await using var database = new IsolatedDatabase();
        await database.InitializeAsync();
        await using var vhost = new IsolatedVhost();
        await vhost.InitializeAsync();
        var (metrics, health) = (RunProcess.FreePort(), RunProcess.FreePort());
        await using var run = await RunProcess.Start(database, vhost, new Dictionary<string, string?>
        {
            ["Observability__ListenAddress"] = null,
            ["Observability__MetricsPort"] = Port(metrics),
            ["Observability__HealthPort"] = Port(health),
        });

        await Eventually.Until(async () => await Status($"http://127.0.0.1:{health}/readyz") == HttpStatusCode.OK, Deadline, () => $"/readyz 200 on 127.0.0.1:{health}; the process wrote:\n{run}");
        Assert.Null(await Status($"http://127.0.0.2:{health}/readyz"));
        Assert.Null(await Status($"http://127.0.0.2:{metrics}/metrics"));
        Assert.Equal(0, await run.Stop());

        var lines = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length >= 2, $"expected the start and stop logged:\n{run}");
        foreach (var line in lines)
        {
            using var entry = JsonDocument.Parse(line);
            var timestamp = entry.RootElement.GetProperty("Timestamp").GetString() ?? "";
            Assert.True(IsoUtc().IsMatch(timestamp), $"not an ISO 8601 UTC timestamp: {timestamp} in {line}");
            Assert.True(DateTimeOffset.UtcNow - DateTimeOffset.Parse(timestamp, CultureInfo.InvariantCulture) < TimeSpan.FromMinutes(10), $"the timestamp is not now in UTC: {line}");
            var level = entry.RootElement.GetProperty("LogLevel").GetString();
            Assert.Contains(level, new[] { "Trace", "Debug", "Information", "Warning", "Error", "Critical" });
            // a normal start and stop logs no error (an error-log alert would fire on every deploy),
            // and not every SQL command (Npgsql logs each at Information)
            Assert.False(level is "Error" or "Critical", $"a normal start logged an error: {line}");
            Assert.False(level == "Information" && entry.RootElement.GetProperty("Category").GetString()!.StartsWith("Npgsql", StringComparison.Ordinal), $"Npgsql logged at Information: {line}");
        }

        Assert.DoesNotContain("Password=", run.Output + run.Error, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(vhost.Rabbit.Password, run.Output + run.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("0.0.0.0.0")]
    [InlineData("127.1")]
    public async Task A_listen_address_that_is_not_an_IP_address_stops_run_with_one_line_naming_the_setting(string address)
    {
        var result = await CliProcess.Run(["run", "--role", "sync"], new Dictionary<string, string?> { ["Observability__ListenAddress"] = address });

        Assert.Equal(1, result.ExitCode);
        var lines = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, result.ToString());
        Assert.StartsWith("error: setting Observability:ListenAddress", lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Output + result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_health_probe_fails_with_one_line_when_nothing_answers()
    {
        var result = await CliProcess.Run(["health", "--url", $"http://127.0.0.1:{RunProcess.FreePort()}/readyz", "--timeout", "2"]);

        Assert.Equal(1, result.ExitCode);
        var lines = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1 && lines[0].StartsWith("unhealthy: ", StringComparison.Ordinal), result.ToString());
    }
}
