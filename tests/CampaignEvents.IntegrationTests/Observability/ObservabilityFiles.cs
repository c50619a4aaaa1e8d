using System.Text.Json;
using System.Text.RegularExpressions;
using CampaignEvents.TestSupport;
using YamlDotNet.RepresentationModel;

namespace CampaignEvents.IntegrationTests.Observability;

/// <summary>The alert rules, Prometheus configuration and Grafana dashboard the repository ships (infra/compose/observability).</summary>
static partial class ObservabilityFiles
{
    public static readonly string Folder = Repository.PathOf("infra/compose/observability");

    public static readonly string AlertRules = Path.Combine(Folder, "alerts.yml");

    public static readonly string PrometheusConfig = Path.Combine(Folder, "prometheus.yml");

    public static readonly string Dashboard = Path.Combine(Folder, "grafana/dashboards/campaign-events.json");

    [GeneratedRegex(@"\b(campaign_events_[a-z0-9_]+|rabbitmq_[a-z0-9_]+)\b")]
    private static partial Regex MetricName();

    /// <summary>The PromQL of every alert rule and every dashboard panel.</summary>
    public static IEnumerable<string> Queries()
    {
        var yaml = new YamlStream();
        using (var reader = File.OpenText(AlertRules))
        {
            yaml.Load(reader);
        }

        var groups = (YamlSequenceNode)((YamlMappingNode)yaml.Documents[0].RootNode).Children[new YamlScalarNode("groups")];
        foreach (var rule in groups.Cast<YamlMappingNode>().SelectMany(g => (YamlSequenceNode)g.Children[new YamlScalarNode("rules")]).Cast<YamlMappingNode>())
        {
            yield return rule.Children[new YamlScalarNode("expr")].ToString();
        }

        using var dashboard = JsonDocument.Parse(File.ReadAllText(Dashboard));
        foreach (var panel in dashboard.RootElement.GetProperty("panels").EnumerateArray())
        {
            if (panel.TryGetProperty("targets", out var targets))
            {
                foreach (var target in targets.EnumerateArray())
                {
                    yield return target.GetProperty("expr").GetString()!;
                }
            }
        }
    }

    /// <summary>Every metric name with <paramref name="prefix"/> that the alert rules or the dashboard query.</summary>
    public static IReadOnlyList<string> ReferencedMetrics(string prefix) =>
        [.. Queries()
            .SelectMany(query => MetricName().Matches(query).Select(m => m.Value))
            .Where(name => name.StartsWith(prefix, StringComparison.Ordinal))
            .Distinct()
            .Order()];

    /// <summary>The metric names of the samples in a Prometheus text exposition.</summary>
    public static HashSet<string> SampleNames(string exposition) =>
        [.. exposition.Split('\n')
            .Where(line => line.Length > 0 && line[0] != '#')
            .Select(line => line[..line.IndexOfAny(['{', ' '])])];

    /// <summary>The sum of the samples of <paramref name="name"/> whose labels contain <paramref name="label"/> (e.g. <c>le="60"</c>); null when there is none.</summary>
    public static double? Sum(string exposition, string name, string label = "")
    {
        double? sum = null;
        foreach (var line in exposition.Split('\n'))
        {
            if (!line.StartsWith(name, StringComparison.Ordinal) || line.Length == name.Length || line[name.Length] is not ('{' or ' '))
            {
                continue;
            }

            var end = line[name.Length] == '{' ? line.IndexOf('}', StringComparison.Ordinal) : name.Length - 1;
            var labels = line[name.Length] == '{' ? line[(name.Length + 1)..end] : "";
            if (!labels.Contains(label, StringComparison.Ordinal))
            {
                continue;
            }

            // "name{labels} value [timestamp]"
            var value = line[(end + 1)..].Trim().Split(' ')[0];
            sum = (sum ?? 0) + double.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
        }

        return sum;
    }
}
