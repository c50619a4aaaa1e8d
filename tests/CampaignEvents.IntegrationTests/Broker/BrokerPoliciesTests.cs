using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using CampaignEvents.TestSupport;
using CampaignEvents.TestSupport.Stack;
using Xunit;

namespace CampaignEvents.IntegrationTests.Broker;

/// <summary>
/// The broker policies (bounded error queues that refuse rather than drop, a redelivery limit that
/// dead-letters a poison message to its error queue) are one file, infra/compose/rabbitmq-definitions.json,
/// which compose loads and infra/up.sh applies: both stacks hold the same limits.
/// </summary>
public sealed class BrokerPoliciesTests
{
    [Fact]
    public async Task The_local_stack_holds_exactly_the_policies_of_the_compose_definitions()
    {
        var stack = await TestStack.Get();
        var expected = JsonNode.Parse(await File.ReadAllTextAsync(Repository.PathOf("infra/compose/rabbitmq-definitions.json")))!["policies"]!.AsArray()
            .ToDictionary(p => p!["name"]!.GetValue<string>(), p => p!);
        Assert.Contains("error-queues-bounded", expected.Keys);
        Assert.Contains("contact-changes-redelivery-limit", expected.Keys);

        using var management = IsolatedVhost.CreateManagementClient(stack.Rabbit);
        var vhost = expected.Values.First()!["vhost"]!.GetValue<string>();
        var actual = (await management.GetFromJsonAsync<JsonElement>($"api/policies/{Uri.EscapeDataString(vhost)}")).EnumerateArray()
            .ToDictionary(p => p.GetProperty("name").GetString()!, p => JsonNode.Parse(p.GetRawText())!);

        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, policy) in expected)
        {
            foreach (var field in new[] { "pattern", "apply-to", "priority", "definition" })
            {
                Assert.True(JsonNode.DeepEquals(policy![field], actual[name][field]), $"policy {name}: {field} is {actual[name][field]?.ToJsonString()} on the stack, {policy[field]?.ToJsonString()} in the definitions");
            }
        }

        // what the limits promise: an error queue refuses a message rather than dropping one, and a
        // message redelivered too often goes to its error queue, at least once
        Assert.Equal("reject-publish", expected["error-queues-bounded"]!["definition"]!["overflow"]!.GetValue<string>());
        Assert.Equal("contact-changes_error", expected["contact-changes-redelivery-limit"]!["definition"]!["dead-letter-exchange"]!.GetValue<string>());
        Assert.Equal("at-least-once", expected["contact-changes-redelivery-limit"]!["definition"]!["dead-letter-strategy"]!.GetValue<string>());
    }
}
