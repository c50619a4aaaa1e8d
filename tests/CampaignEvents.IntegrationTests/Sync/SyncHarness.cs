using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CampaignEvents.Cli.Hosting;
using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.IntegrationTests.Pipeline;
using CampaignEvents.TestSupport.Generators;
using CampaignEvents.TestSupport.Stack;
using Dapper;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using RabbitMQ.Client;

namespace CampaignEvents.IntegrationTests.Sync;

/// <summary>A message as the management API returns it from a queue.</summary>
public sealed record QueuedMessage(string Payload, IReadOnlyDictionary<string, string> Headers, string? ContentType)
{
    public string Header(string name) => Headers.TryGetValue(name, out var value) ? value : "";
}

/// <summary>Hosts of the sync role on an isolated database and vhost, and the tools to feed and inspect them.</summary>
public static class SyncHarness
{
    /// <summary>A sync host on the given database (connection string) and vhost (the administrator's), started, as the sync job (or <paramref name="job"/>).</summary>
    public static async Task<IHost> StartSync(string contacts, RabbitMqOptions rabbit, IDictionary<string, string?>? extra = null, Job? job = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Contacts"] = contacts,
            ["RabbitMq:Host"] = rabbit.Host,
            ["RabbitMq:Port"] = rabbit.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RabbitMq:VirtualHost"] = rabbit.VirtualHost,
            ["RabbitMq:Username"] = rabbit.Username,
            ["RabbitMq:Password"] = rabbit.Password,
            ["Sync:CampaignWaitIntervals:0"] = "00:00:00.200",
            ["Sync:CampaignWaitIntervals:1"] = "00:00:00.500",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        var host = await RoleHosts.Build([Role.Sync], settings, job);
        try
        {
            await host.StartAsync();
        }
        catch
        {
            host.Dispose();
            throw;
        }

        // the bus declares its exchanges and queues once started; publishers need them
        var health = await host.Services.GetRequiredService<IBusControl>().WaitForHealthStatus(BusHealthStatus.Healthy, TimeSpan.FromSeconds(30));
        if (health != BusHealthStatus.Healthy)
        {
            throw new InvalidOperationException($"the sync host's bus is {health} after 30 s");
        }

        return host;
    }

    public static async Task<IConnection> Connect(RabbitMqOptions rabbit) =>
        await new ConnectionFactory
        {
            HostName = rabbit.Host,
            Port = rabbit.Port,
            VirtualHost = rabbit.VirtualHost,
            UserName = rabbit.Username,
            Password = rabbit.Password,
        }.CreateConnectionAsync();

    /// <summary>Publishes JSON text as an upstream system in another language would: plain basic.publish, content type application/json, persistent, confirmed.</summary>
    public static async Task PublishRaw(IConnection connection, IEnumerable<(string Exchange, string Json)> messages)
    {
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        var pending = new List<Task>();
        foreach (var (exchange, json) in messages)
        {
            var properties = new BasicProperties { ContentType = "application/json", DeliveryMode = DeliveryModes.Persistent };
            pending.Add(channel.BasicPublishAsync(exchange, "", mandatory: false, properties, Encoding.UTF8.GetBytes(json)).AsTask());
            if (pending.Count >= 500)
            {
                await Task.WhenAll(pending);
                pending.Clear();
            }
        }

        await Task.WhenAll(pending);
    }

    /// <summary>Reads (and requeues) up to <paramref name="count"/> messages of a queue through the management API, as the dashboard's "Get messages".</summary>
    public static async Task<List<QueuedMessage>> Peek(IsolatedVhost vhost, string queue, int count = 500)
    {
        var response = await vhost.Management.PostAsJsonAsync(
            $"api/queues/{Uri.EscapeDataString(vhost.Name)}/{Uri.EscapeDataString(queue)}/get",
            new { count, ackmode = "ack_requeue_true", encoding = "auto", truncate = 100_000 });
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return [];
        }

        response.EnsureSuccessStatusCode();
        var items = await response.Content.ReadFromJsonAsync<JsonElement>();
        return [.. items.EnumerateArray().Select(item =>
        {
            var properties = item.GetProperty("properties");
            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            if (properties.TryGetProperty("headers", out var h) && h.ValueKind == JsonValueKind.Object)
            {
                foreach (var header in h.EnumerateObject())
                {
                    headers[header.Name] = header.Value.ValueKind == JsonValueKind.String ? header.Value.GetString()! : header.Value.GetRawText();
                }
            }

            return new QueuedMessage(
                item.GetProperty("payload").GetString() ?? "",
                headers,
                properties.TryGetProperty("content_type", out var ct) ? ct.GetString() : null);
        })];
    }

    public static async Task<Guid> InsertCampaign(NpgsqlDataSource dataSource, Guid? id = null)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<Guid>(
            "INSERT INTO campaigns (id, name, type, status, config) VALUES (@id, 'test', 'voice', 'active', '{}') RETURNING id",
            new { id = id ?? Guid.NewGuid() });
    }

    public static async Task<List<ContactRow>> Contacts(NpgsqlDataSource dataSource, params Guid[] campaigns)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        var rows = await connection.QueryAsync<(Guid CampaignId, string PhoneNumber, string Metadata)>(
            "SELECT campaign_id, phone_number, metadata::text FROM contacts WHERE campaign_id = ANY(@campaigns)", new { campaigns });
        return [.. rows.Select(r => new ContactRow(r.CampaignId, r.PhoneNumber, JsonNode.Parse(r.Metadata)!.AsObject()))];
    }

    public static async Task<long> Count(NpgsqlDataSource dataSource, string sql, object? parameters = null)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>(sql, parameters);
    }

    public static string Changed(Guid campaign, string phone, long version, string metadata = """{"name":"x"}""") =>
        $$"""{"eventId":"{{Guid.NewGuid()}}","campaignId":"{{campaign}}","phoneNumber":"{{phone}}","version":{{version}},"occurredAt":"2026-01-01T00:00:00Z","metadata":{{metadata}}}""";

    public static string Deleted(Guid campaign, string phone, long version) =>
        $$"""{"eventId":"{{Guid.NewGuid()}}","campaignId":"{{campaign}}","phoneNumber":"{{phone}}","version":{{version}},"occurredAt":"2026-01-01T00:00:00Z"}""";
}
