using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.TestSupport;
using Xunit;
using YamlDotNet.RepresentationModel;

namespace CampaignEvents.IntegrationTests.Contracts;

/// <summary>
/// contracts/asyncapi.yaml is valid for the AsyncAPI CLI (from npm, installed into .stack/npm on
/// first use) and names the broker's real exchanges and queues.
/// </summary>
public sealed class AsyncApiDocumentTests
{
    static readonly string Document = Repository.PathOf("contracts/asyncapi.yaml");

    /// <summary>The CLI counts its runs on a server unless told not to; tests talk to loopback only.</summary>
    static async Task<IReadOnlyDictionary<string, string>> OfflineEnvironment()
    {
        var analytics = Path.Combine(NpmTools.Prefix, "asyncapi-analytics.json");
        await File.WriteAllTextAsync(analytics, """{"analyticsEnabled":"false","infoMessageShown":"true","userID":"campaign-events-tests"}""");
        return new Dictionary<string, string>
        {
            ["ASYNCAPI_METRICS_CONFIG_PATH"] = analytics,
            ["SUPPRESS_NO_CONFIG_WARNING"] = "1",
            ["NODE_NO_WARNINGS"] = "1",
        };
    }

    [Fact]
    public async Task The_AsyncAPI_CLI_finds_the_document_valid()
    {
        var asyncapi = await NpmTools.Bin("asyncapi");
        var result = await NpmTools.Run(asyncapi, ["validate", Document, "--fail-severity", "error"], await OfflineEnvironment());

        Assert.True(result.ExitCode == 0, $"asyncapi validate {Document}: {result}");
        Assert.Contains("is valid", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_AsyncAPI_CLI_refuses_a_broken_copy_so_the_check_bites()
    {
        var asyncapi = await NpmTools.Bin("asyncapi");
        var broken = Path.Combine(Repository.PathOf("contracts"), $".broken-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(broken, File.ReadAllText(Document).Replace("    action: send\n", "    action: publish\n", StringComparison.Ordinal));
        try
        {
            var result = await NpmTools.Run(asyncapi, ["validate", broken, "--fail-severity", "error"], await OfflineEnvironment());
            Assert.True(result.ExitCode != 0, $"a document with action: publish (AsyncAPI 2's word) passed: {result}");
        }
        finally
        {
            File.Delete(broken);
        }
    }

    [Fact]
    public void The_document_names_every_exchange_and_queue_of_the_topology()
    {
        var yaml = new YamlStream();
        using (var reader = File.OpenText(Document))
        {
            yaml.Load(reader);
        }

        var channels = (YamlMappingNode)((YamlMappingNode)yaml.Documents[0].RootNode).Children[new YamlScalarNode("channels")];
        var addresses = channels.Children.Values.Cast<YamlMappingNode>().Select(c => c.Children[new YamlScalarNode("address")].ToString()).ToHashSet();
        var errorQueues = ((YamlSequenceNode)((YamlMappingNode)((YamlMappingNode)((YamlMappingNode)channels.Children[new YamlScalarNode("errorQueues")])
            .Children[new YamlScalarNode("parameters")]).Children[new YamlScalarNode("queue")]).Children[new YamlScalarNode("enum")]).Select(n => n.ToString()).ToHashSet();
        var waits = ((YamlSequenceNode)((YamlMappingNode)((YamlMappingNode)((YamlMappingNode)channels.Children[new YamlScalarNode("waitQueues")])
            .Children[new YamlScalarNode("parameters")]).Children[new YamlScalarNode("delay")]).Children[new YamlScalarNode("enum")]).Select(n => n.ToString()).ToHashSet();

        foreach (var exchange in Topology.ContractExchanges.Append(Topology.ReconcileCampaignExchange).Append(Topology.CampaignReconciledExchange))
        {
            Assert.Contains(exchange, addresses);
        }

        Assert.Contains(Topology.ContactChangesQueue, addresses);
        Assert.Contains(Topology.CampaignChangesQueue, addresses);
        Assert.Contains(Topology.ErrorQueue("{queue}"), addresses);
        Assert.Equal(
            new[] { Topology.ContactChangesQueue, Topology.CampaignChangesQueue, Topology.ReconciliationQueue, Topology.ReconciliationSourceDigestQueue, Topology.ReconciliationSourceKeysQueue, Topology.ReconciliationSourceRepairQueue, Topology.ReconciliationSourceCampaignsQueue }.Order(),
            errorQueues.Order());

        // the default back-off steps of Sync:CampaignWaitIntervals, by the names Topology gives their queues
        var defaults = new CampaignEvents.Sync.Configuration.SyncOptions().CampaignWaits.Distinct().Select(Topology.WaitQueue);
        Assert.Equal(defaults.Order(), waits.Select(w => $"{Topology.ContactChangesQueue}-wait-{w}").Order());
    }
}
