using System.Net.Http.Json;
using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Infrastructure.Messaging;

namespace CampaignEvents.Throwaway;

/// <summary>RabbitMQ virtual hosts of their own, created through the management API and deleted with everything in them.</summary>
public static class ThrowawayVhosts
{
    /// <summary>Creates <paramref name="name"/>, gives the user of <paramref name="rabbit"/> every permission on it, and returns settings for it.</summary>
    public static async Task<RabbitMqOptions> Create(RabbitMqOptions rabbit, string name, CancellationToken cancel = default)
    {
        using var management = ManagementApi.Client(rabbit);
        (await management.PutAsync($"api/vhosts/{Uri.EscapeDataString(name)}", null, cancel)).EnsureSuccessStatusCode();
        (await management.PutAsJsonAsync(
            $"api/permissions/{Uri.EscapeDataString(name)}/{Uri.EscapeDataString(rabbit.Username)}",
            new { configure = ".*", write = ".*", read = ".*" },
            cancel)).EnsureSuccessStatusCode();
        return With(rabbit, name);
    }

    /// <summary>Deletes the vhost with its queues and exchanges (nothing when it is gone already).</summary>
    public static async Task Delete(RabbitMqOptions rabbit, string name)
    {
        using var management = ManagementApi.Client(rabbit);
        await management.DeleteAsync($"api/vhosts/{Uri.EscapeDataString(name)}");
    }

    /// <summary>The same broker, user and TLS settings on another vhost.</summary>
    public static RabbitMqOptions With(RabbitMqOptions rabbit, string vhost) => new()
    {
        Host = rabbit.Host,
        Port = rabbit.Port,
        Hosts = rabbit.Hosts,
        ManagementPort = rabbit.ManagementPort,
        ManagementHosts = rabbit.ManagementHosts,
        ManagementHttps = rabbit.ManagementHttps,
        ManagementCaFile = rabbit.ManagementCaFile,
        Tls = rabbit.Tls,
        VirtualHost = vhost,
        Username = rabbit.Username,
        Password = rabbit.Password,
    };
}
