using System.Diagnostics;
using CampaignEvents.TestSupport;
using CampaignEvents.TestSupport.Stack;
using RabbitMQ.Client;
using Xunit;

namespace CampaignEvents.IntegrationTests.Observability;

/// <summary>
/// The alert rules and the Prometheus configuration pass promtool (Debian's prometheus package,
/// which infra/test.sh installs); the queue depths they query come from RabbitMQ's own
/// rabbitmq_prometheus plugin, as infra/ enables it (checked on a throwaway node).
/// </summary>
public sealed class AlertRulesTests
{
    [Fact]
    public async Task Promtool_accepts_the_alert_rules_and_the_Prometheus_configuration()
    {
        var rules = await Promtool("check", "rules", ObservabilityFiles.AlertRules);
        Assert.True(rules.ExitCode == 0, rules.ToString());
        Assert.Contains("SUCCESS", rules.Output, StringComparison.Ordinal);

        var config = await Promtool("check", "config", ObservabilityFiles.PrometheusConfig);
        Assert.True(config.ExitCode == 0, config.ToString());
    }

    [Fact]
    public async Task Promtool_refuses_a_broken_rule_so_the_check_bites()
    {
        var broken = Path.Combine(Path.GetTempPath(), $"ce-broken-rules-{Guid.NewGuid():N}.yml");
        await File.WriteAllTextAsync(broken, (await File.ReadAllTextAsync(ObservabilityFiles.AlertRules)).Replace("> 0\n", "> > 0\n", StringComparison.Ordinal));
        try
        {
            var result = await Promtool("check", "rules", broken);
            Assert.NotEqual(0, result.ExitCode);
        }
        finally
        {
            File.Delete(broken);
        }
    }

    [Fact]
    public void Every_alert_the_issue_asks_for_is_there()
    {
        var rules = File.ReadAllText(ObservabilityFiles.AlertRules);
        foreach (var alert in new[]
        {
            "CampaignEventsErrorQueueNotEmpty", "CampaignEventsWaitingContactsGrowing", "CampaignEventsSlotLagBytes",
            "CampaignEventsNotReady", "CampaignEventsReconciliationDrift",
        })
        {
            Assert.Contains($"alert: {alert}\n", rules, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Infra_enables_rabbitmq_prometheus_on_loopback_for_the_node_and_the_cluster()
    {
        foreach (var script in new[] { "infra/lib.sh", "infra/cluster.sh" })
        {
            var text = File.ReadAllText(Repository.PathOf(script));
            Assert.Contains("[rabbitmq_management,rabbitmq_prometheus].", text, StringComparison.Ordinal);
            Assert.Contains("prometheus.tcp.ip = 127.0.0.1", text, StringComparison.Ordinal);
        }

        Assert.Equal("[rabbitmq_management,rabbitmq_prometheus].", File.ReadAllText(Repository.PathOf("infra/compose/enabled_plugins")).Trim());
    }

    [Fact]
    public async Task The_queue_depths_the_rules_and_dashboard_query_are_what_rabbitmq_prometheus_exports()
    {
        await using var broker = await ThrowawayRabbitMq.Start(prometheus: true);
        var options = broker.Rabbit;
        await using (var connection = await new ConnectionFactory { HostName = options.Host, Port = options.Port, UserName = options.Username, Password = options.Password }.CreateConnectionAsync())
        await using (var channel = await connection.CreateChannelAsync())
        {
            await channel.QueueDeclareAsync("contact-changes_error", durable: true, exclusive: false, autoDelete: false);
            await channel.BasicPublishAsync("", "contact-changes_error", true, new BasicProperties(), "{}"u8.ToArray());
        }

        // the scrape of the compose profile's job rabbitmq-queues (infra/compose/observability/prometheus.yml)
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var url = $"http://127.0.0.1:{broker.PrometheusPort}/metrics/detailed?family=queue_coarse_metrics&family=queue_consumer_count";
        var scrape = "";
        await Eventually.Until(async () =>
        {
            scrape = await http.GetStringAsync(url);
            return ObservabilityFiles.Sum(scrape, "rabbitmq_detailed_queue_messages", "queue=\"contact-changes_error\"") == 1;
        }, TimeSpan.FromSeconds(60), () => $"the error queue's depth 1 on {url}:\n{scrape}");

        var exported = ObservabilityFiles.SampleNames(scrape);
        var referenced = ObservabilityFiles.ReferencedMetrics("rabbitmq_");
        Assert.NotEmpty(referenced);
        Assert.All(referenced, name => Assert.True(exported.Contains(name), $"{name} is queried by infra/compose/observability but rabbitmq_prometheus does not export it"));

        // the node-wide endpoint of the job rabbitmq answers too
        using var node = await http.GetAsync($"http://127.0.0.1:{broker.PrometheusPort}/metrics");
        Assert.True(node.IsSuccessStatusCode);
    }

    static async Task<CliResult> Promtool(params string[] args)
    {
        const string Path = "/usr/bin/promtool";
        if (!File.Exists(Path))
        {
            if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException("promtool is not installed (infra/test.sh installs Debian's prometheus package)");
            }

            Assert.Skip("promtool is not installed: run bash infra/test.sh, or apt-get install prometheus");
        }

        var info = new ProcessStartInfo(Path, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return new CliResult(process.ExitCode, await output, await error);
    }
}
