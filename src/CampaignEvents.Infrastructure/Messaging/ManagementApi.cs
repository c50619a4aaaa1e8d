using System.Net.Http.Headers;
using System.Text;
using CampaignEvents.Infrastructure.Configuration;

namespace CampaignEvents.Infrastructure.Messaging;

/// <summary>The RabbitMQ management API (the dashboard's port), for status, the demo, benchmarks and tests.</summary>
public static class ManagementApi
{
    /// <summary>A client of the management API of the configured broker, authenticated as its user.</summary>
    public static HttpClient Client(RabbitMqOptions rabbit)
    {
        var client = new HttpClient
        {
            BaseAddress = new Uri($"http://{rabbit.Host}:{rabbit.ManagementPort}/"),
            Timeout = TimeSpan.FromSeconds(30),
        };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{rabbit.Username}:{rabbit.Password}")));
        return client;
    }
}
