using System.Net.Http.Json;
using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.Throwaway;
using Xunit;

namespace CampaignEvents.TestSupport.Stack;

/// <summary>
/// A RabbitMQ virtual host of its own for one test class (a class fixture), created through the
/// management API and deleted with everything in it at the end. <see cref="Rabbit"/> is the
/// administrator's (the harness: topology, queues a test reads); every role user of
/// infra/compose/rabbitmq-definitions.json gets its permissions on the vhost too, so a host runs as
/// its job's user (<see cref="Identities.Settings"/>).
/// </summary>
public sealed class IsolatedVhost : IAsyncLifetime
{
    HttpClient? http;

    public RabbitMqOptions Rabbit { get; private set; } = new();

    /// <summary>The management API of the test broker, authenticated as the stack's user.</summary>
    public HttpClient Management => http ?? throw new InvalidOperationException("the vhost is not created yet");

    public string Name => Rabbit.VirtualHost;

    public async ValueTask InitializeAsync()
    {
        var stack = await TestStack.Get();
        http = CreateManagementClient(stack.Rabbit);
        Rabbit = await ThrowawayVhosts.Create(stack.Rabbit, $"ce-test-{Guid.NewGuid():N}"[..24]);
        await Identities.GrantBroker(http, Rabbit.VirtualHost);
    }

    public async ValueTask DisposeAsync()
    {
        if (http is not null)
        {
            await ThrowawayVhosts.Delete(Rabbit, Name);
            http.Dispose();
        }
    }

    /// <summary>Messages ready in a queue of this vhost, as the dashboard shows them (0 when the queue does not exist).</summary>
    public async Task<long> MessagesReady(string queue)
    {
        var response = await Management.GetAsync($"api/queues/{Name}/{queue}");
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return 0;
        }

        response.EnsureSuccessStatusCode();
        var json = await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        return json.TryGetProperty("messages_ready", out var ready) && ready.ValueKind == System.Text.Json.JsonValueKind.Number ? ready.GetInt64() : 0;
    }

    public static HttpClient CreateManagementClient(RabbitMqOptions rabbit) => ManagementApi.Client(rabbit);
}
