using System.Globalization;
using CampaignEvents.Infrastructure.Configuration;

namespace CampaignEvents.Bench;

/// <summary>A broker the consumer series runs against: its AMQP nodes (as in RabbitMq:Hosts) and their dashboards.</summary>
public sealed record BrokerTarget(IReadOnlyList<(string Host, int Port)> Nodes, IReadOnlyList<(string Host, int Port)> Management)
{
    /// <summary>The nodes as RabbitMq:Hosts spells them.</summary>
    public string HostList => Join(Nodes);

    public string ManagementList => Join(Management);

    /// <summary>For the table: "1 node 127.0.0.1:5672" or "3 nodes 127.0.0.1:5681,…".</summary>
    public string Label => Nodes.Count == 1 ? $"1 node {HostList}" : $"{Nodes.Count} nodes {HostList}";

    /// <summary>The nodes starting at node <paramref name="first"/> (round the list): consumer i connects first to node i.</summary>
    public string HostListFrom(int first) =>
        Join([.. Nodes.Skip(first % Nodes.Count), .. Nodes.Take(first % Nodes.Count)]);

    static string Join(IEnumerable<(string Host, int Port)> nodes) => string.Join(',', nodes.Select(n => $"{n.Host}:{n.Port}"));
}

/// <summary>
/// The options of <c>bench sync</c>, checked before any server is touched: a wrong value stops the
/// command with one line naming the option (<see cref="SettingsException"/>).
/// </summary>
public static class ConsumerSeriesOptions
{
    /// <summary>More consumer processes than this on one machine measure the scheduler, not the pipeline.</summary>
    public const int MaxConsumers = 32;

    /// <summary>The counts of <c>--consumers</c> ("1,2,4"), in the order given; none without the option.</summary>
    public static IReadOnlyList<int> ParseConsumers(string? value)
    {
        if (value is null)
        {
            return [];
        }

        var counts = new List<int>();
        foreach (var raw in value.Split(','))
        {
            var entry = raw.Trim();
            if (!int.TryParse(entry, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n is < 1 or > MaxConsumers)
            {
                throw new SettingsException($"option --consumers has a bad entry '{entry}': give comma-separated numbers of consumer processes from 1 to {MaxConsumers}, for example 1,2,4");
            }

            counts.Add(n);
        }

        return counts;
    }

    /// <summary>
    /// The brokers of <c>--brokers</c> (each a RabbitMq:Hosts list) with their dashboards
    /// (<c>--management-hosts</c>: none, or one list per <c>--brokers</c> in the same order).
    /// Without <c>--brokers</c>, the configured broker. A list without its dashboards gets the
    /// configured ones when it is the configured broker, else its hosts on RabbitMq:ManagementPort.
    /// </summary>
    public static IReadOnlyList<BrokerTarget> ParseBrokers(IReadOnlyList<string> brokers, IReadOnlyList<string> managementHosts, RabbitMqOptions configured)
    {
        if (brokers.Count == 0)
        {
            if (managementHosts.Count > 0)
            {
                throw new SettingsException("option --management-hosts needs --brokers: give one --management-hosts per --brokers, in the same order");
            }

            return [new BrokerTarget(configured.Nodes(), configured.ManagementNodes())];
        }

        if (managementHosts.Count != 0 && managementHosts.Count != brokers.Count)
        {
            throw new SettingsException($"option --management-hosts is given {managementHosts.Count} times for {brokers.Count} --brokers: give it once per --brokers, in the same order, or not at all");
        }

        var targets = new List<BrokerTarget>();
        for (var i = 0; i < brokers.Count; i++)
        {
            var nodes = Nodes(brokers[i], configured.Port, "--brokers");
            var management = managementHosts.Count > 0 ? Nodes(managementHosts[i], configured.ManagementPort, "--management-hosts")
                : nodes.SequenceEqual(configured.Nodes()) ? configured.ManagementNodes()
                : [.. nodes.Select(n => n.Host).Distinct(StringComparer.OrdinalIgnoreCase).Select(h => (h, configured.ManagementPort))];
            targets.Add(new BrokerTarget(nodes, management));
        }

        return targets;
    }

    /// <summary>The sizes of the bench, each named when out of range.</summary>
    public static void CheckCounts(int count, int campaigns, int batchSize, int perEventCount, int naiveCount)
    {
        Positive("--count", count, 1);
        Positive("--campaigns", campaigns, 1);
        Positive("--batch-size", batchSize, 1);
        Positive("--per-event-count", perEventCount, 0);
        Positive("--naive-count", naiveCount, 0);
        if ((count + campaigns - 1) / campaigns > 1_000_000)
        {
            throw new SettingsException($"option --count {count:N0} over --campaigns {campaigns} gives more than 1,000,000 contacts per campaign (the bench's phone range): raise --campaigns");
        }
    }

    static void Positive(string option, int value, int least)
    {
        if (value < least)
        {
            throw new SettingsException($"option {option} is {value}: give {(least == 0 ? "0 (skip) or more" : $"{least} or more")}");
        }
    }

    static IReadOnlyList<(string Host, int Port)> Nodes(string list, int defaultPort, string option) =>
        RabbitMqOptions.TryParseNodes(list, defaultPort, out var nodes, out var error)
            ? nodes
            : throw new SettingsException($"option {option} {error}");
}
