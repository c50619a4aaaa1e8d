using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.TestSupport;
using Xunit;

namespace CampaignEvents.Bench.Tests;

/// <summary>
/// <c>campaign-events-bench sync</c>'s consumer series options: a wrong value stops the command with one line naming
/// the option, before any server is touched (the database here does not answer: an error naming it
/// would mean the options were checked too late).
/// </summary>
public sealed class BenchSyncOptionTests
{
    static readonly Dictionary<string, string?> NoServer = new()
    {
        ["ConnectionStrings__Contacts"] = "Host=127.0.0.1;Port=1;Database=nope;Username=nobody",
        ["RabbitMq__Port"] = "1",
    };

    [Theory]
    [InlineData("--consumers 1,0,4", "option --consumers has a bad entry '0'")]
    [InlineData("--consumers 1,two", "option --consumers has a bad entry 'two'")]
    [InlineData("--consumers 2 --brokers 127.0.0.1:5681,bad/host", "option --brokers has a bad entry 'bad/host'")]
    [InlineData("--consumers 2 --brokers 127.0.0.1:99999", "option --brokers has a bad entry '127.0.0.1:99999'")]
    [InlineData("--consumers 1 --brokers 127.0.0.1:5672 --brokers 127.0.0.1:5681 --management-hosts 127.0.0.1:15672", "option --management-hosts is given 1 times for 2 --brokers")]
    [InlineData("--brokers 127.0.0.1:5681", "option --brokers / --management-hosts only apply with --consumers")]
    [InlineData("--consumers 1 --cli /no/such/campaign-events.dll", "option --cli: /no/such/campaign-events.dll does not exist")]
    [InlineData("--cli /no/such/campaign-events.dll", "option --cli only applies with --consumers")]
    [InlineData("--count 0", "option --count is 0")]
    [InlineData("--naive-count -1", "option --naive-count is -1")]
    public async Task A_bad_value_is_named_in_one_line_before_any_server_is_used(string options, string message)
    {
        var result = await CliProcess.Run(["sync", .. options.Split(' ')], NoServer, program: CliProcess.BenchDll);

        Assert.Equal(1, result.ExitCode);
        var lines = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got:\n{result}");
        Assert.StartsWith($"error: {message}", lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Output + result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1001")]
    public async Task Streaming_names_a_bad_per_transaction_in_one_line_before_any_server_is_used(string value)
    {
        var result = await CliProcess.Run(["streaming", "--per-transaction", value], NoServer, program: CliProcess.BenchDll);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"error: option --per-transaction is {value}: give 1 to 1000", result.Error.Trim());
    }

    [Fact]
    public void Consumer_processes_connect_first_to_one_node_after_another()
    {
        var cluster = ConsumerSeriesOptions.ParseBrokers(["a:5681,b:5682,c:5683"], ["a:15681"], new RabbitMqOptions()).Single();

        Assert.Equal(["a:5681,b:5682,c:5683", "b:5682,c:5683,a:5681", "c:5683,a:5681,b:5682", "a:5681,b:5682,c:5683"], Enumerable.Range(0, 4).Select(cluster.HostListFrom));
        Assert.Equal("a:15681", cluster.ManagementList);
    }

    [Fact]
    public void The_configured_broker_keeps_its_configured_dashboards()
    {
        var configured = new RabbitMqOptions { Hosts = "a:5681,b:5682", ManagementHosts = "a:15681,b:15682" };

        var targets = ConsumerSeriesOptions.ParseBrokers(["a:5681,b:5682", "c"], [], configured);

        Assert.Equal("a:15681,b:15682", targets[0].ManagementList);
        Assert.Equal("c:15672", targets[1].ManagementList);
        Assert.Equal("c:5672", targets[1].HostList);
    }
}
