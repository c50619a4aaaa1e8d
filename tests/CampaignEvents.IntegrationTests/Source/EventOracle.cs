using System.Text.Json.Nodes;
using CampaignEvents.Contracts;
using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.TestSupport.Generators;
using MassTransit;

namespace CampaignEvents.IntegrationTests.Source;

/// <summary>
/// Stands in for the sync consumer: consumes what the adapter publishes on the test's vhost and
/// folds it last-writer-wins (highest version per key, deletes remove), so a test can compare
/// the result with the source table. It holds the same promise the real consumer must keep.
/// </summary>
public sealed class EventOracle : IAsyncDisposable
{
    readonly Lock gate = new();
    readonly Dictionary<(Guid, string), (long Version, JsonObject? Metadata)> contacts = [];
    readonly Dictionary<Guid, long> campaigns = [];
    IBusControl? bus;

    public long Messages { get; private set; }

    public long Items { get; private set; }

    public static async Task<EventOracle> Start(RabbitMqOptions rabbit, string queuePrefix)
    {
        var oracle = new EventOracle();
        oracle.bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(rabbit.Host, (ushort)rabbit.Port, rabbit.VirtualHost, h =>
            {
                h.Username(rabbit.Username);
                h.Password(rabbit.Password);
            });
            BusRegistration.ConfigureWire(cfg);
            // one queue per message type: raw JSON carries no type, so a queue must hold only one
            cfg.ReceiveEndpoint($"{queuePrefix}-batches", e =>
            {
                e.PrefetchCount = 64;
                e.Handler<ContactChangeBatch>(context =>
                {
                    oracle.Apply(context.Message);
                    return Task.CompletedTask;
                });
            });
            cfg.ReceiveEndpoint($"{queuePrefix}-campaigns", e =>
                e.Handler<CampaignChanged>(context =>
                {
                    oracle.Apply(context.Message);
                    return Task.CompletedTask;
                }));
        });
        await oracle.bus.StartAsync();
        return oracle;
    }

    void Apply(ContactChangeBatch batch)
    {
        lock (gate)
        {
            Messages++;
            foreach (var change in batch.Changes)
            {
                Items++;
                Put((change.CampaignId, change.PhoneNumber), change.Version, JsonNode.Parse(change.Metadata.GetRawText())!.AsObject());
            }

            foreach (var delete in batch.Deletes)
            {
                Items++;
                Put((delete.CampaignId, delete.PhoneNumber), delete.Version, null);
            }
        }
    }

    void Put((Guid, string) key, long version, JsonObject? metadata)
    {
        if (!contacts.TryGetValue(key, out var existing) || existing.Version < version)
        {
            contacts[key] = (version, metadata);
        }
    }

    void Apply(CampaignChanged campaign)
    {
        lock (gate)
        {
            if (!campaigns.TryGetValue(campaign.Id, out var version) || version < campaign.Version)
            {
                campaigns[campaign.Id] = campaign.Version;
            }
        }
    }

    public IReadOnlyCollection<Guid> Campaigns
    {
        get
        {
            lock (gate)
            {
                return [.. campaigns.Keys];
            }
        }
    }

    /// <summary>The live contacts the events amount to.</summary>
    public IReadOnlyList<ContactRow> Contacts
    {
        get
        {
            lock (gate)
            {
                return [.. contacts.Where(c => c.Value.Metadata is not null)
                    .Select(c => new ContactRow(c.Key.Item1, c.Key.Item2, (JsonObject)c.Value.Metadata!.DeepClone()))];
            }
        }
    }

    public long VersionOf(Guid campaign, string phone)
    {
        lock (gate)
        {
            return contacts.TryGetValue((campaign, phone), out var e) ? e.Version : -1;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (bus is not null)
        {
            await bus.StopAsync();
        }
    }
}
