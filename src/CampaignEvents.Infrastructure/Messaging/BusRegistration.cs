using CampaignEvents.Contracts;
using CampaignEvents.Contracts.Reconciliation;
using CampaignEvents.Infrastructure.Configuration;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace CampaignEvents.Infrastructure.Messaging;

public static class BusRegistration
{
    const string PartsKey = "CampaignEvents.BusParts";
    const string WaitsKey = "CampaignEvents.WaitQueues";
    const string TopologyKey = "CampaignEvents.TopologyParts";

    /// <summary>
    /// A role adds the part of the broker topology it uses, which this process declares at start
    /// (<see cref="BrokerTopology"/>); a process no role added a part to declares everything. Call
    /// before <see cref="AddCampaignEventsBus"/>.
    /// </summary>
    public static IHostApplicationBuilder AddTopologyPart(this IHostApplicationBuilder builder, TopologyParts part)
    {
        builder.Properties[TopologyKey] = (builder.Properties.TryGetValue(TopologyKey, out var value) && value is TopologyParts parts ? parts : TopologyParts.None) | part;
        return builder;
    }

    /// <summary>
    /// A role adds the wait queues it depends on to the topology every process declares at start
    /// (<see cref="BrokerTopology"/>); call before <see cref="AddCampaignEventsBus"/>.
    /// </summary>
    public static IHostApplicationBuilder AddWaitQueues(this IHostApplicationBuilder builder, Func<IServiceProvider, IEnumerable<TimeSpan>> waits)
    {
        if (!builder.Properties.TryGetValue(WaitsKey, out var value) || value is not List<Func<IServiceProvider, IEnumerable<TimeSpan>>> all)
        {
            all = [];
            builder.Properties[WaitsKey] = all;
        }

        all.Add(waits);
        return builder;
    }

    /// <summary>
    /// A role adds its consumers (and their definitions) to the one bus of the process; call
    /// before <see cref="AddCampaignEventsBus"/>.
    /// </summary>
    public static IHostApplicationBuilder AddBusPart(this IHostApplicationBuilder builder, Action<IBusRegistrationConfigurator> part)
    {
        if (!builder.Properties.TryGetValue(PartsKey, out var value) || value is not List<Action<IBusRegistrationConfigurator>> parts)
        {
            parts = [];
            builder.Properties[PartsKey] = parts;
        }

        parts.Add(part);
        return builder;
    }

    /// <summary>
    /// MassTransit on RabbitMQ with the project's conventions: plain JSON on the wire (no
    /// MassTransit envelope, so any language can publish), pinned exchange names, publisher
    /// confirms, and the consumers every role added with <see cref="AddBusPart"/>.
    /// </summary>
    /// <param name="builder">The host being built; the roles have added their parts to it.</param>
    /// <param name="connectionName">The name the broker shows for this process's connection (status lists it with its node).</param>
    public static IHostApplicationBuilder AddCampaignEventsBus(this IHostApplicationBuilder builder, string? connectionName = null)
    {
        var consumers = builder.Properties.TryGetValue(PartsKey, out var value) && value is List<Action<IBusRegistrationConfigurator>> parts
            ? parts
            : [];

        builder.Services.AddOptions<RabbitMqOptions>()
            .BindConfiguration(RabbitMqOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        // declared before MassTransit starts (hosted services start in the order they were added)
        var waits = builder.Properties.TryGetValue(WaitsKey, out var w) && w is List<Func<IServiceProvider, IEnumerable<TimeSpan>>> list ? list : [];
        var topologyParts = builder.Properties.TryGetValue(TopologyKey, out var t) && t is TopologyParts p && p != TopologyParts.None ? p : TopologyParts.All;
        builder.Services.AddSingleton(services => new BrokerTopology(
            services.GetRequiredService<IOptions<RabbitMqOptions>>().Value,
            waits.SelectMany(wait => wait(services)),
            topologyParts));
        builder.Services.AddHostedService<BrokerTopologyStartup>();

        // a started host has its queues bound: a message published right after start is not lost,
        // and SIGTERM lets in-flight batches finish
        builder.Services.Configure<MassTransitHostOptions>(o =>
        {
            o.WaitUntilStarted = true;
            o.StartTimeout = TimeSpan.FromSeconds(60);
            o.StopTimeout = TimeSpan.FromSeconds(30);
        });

        builder.Services.AddMassTransit(x =>
        {
            // MassTransit reports usage to usage-tracking.masstransit.io by default: nothing leaves
            // the operator's network unasked (README: Hardening checklist)
            x.DisableUsageTelemetry();
            foreach (var part in consumers)
            {
                part(x);
            }

            x.UsingRabbitMq((context, cfg) =>
            {
                var options = context.GetRequiredService<IOptions<RabbitMqOptions>>().Value;
                ConfigureHost(cfg, options, connectionName);
                ConfigureWire(cfg);
                cfg.ConfigureEndpoints(context);
            });
        });
        return builder;
    }

    /// <summary>
    /// The broker: one node (RabbitMq:Host/Port) or a cluster (RabbitMq:Hosts). With a cluster,
    /// MassTransit connects to the first node of the list and, when its connection drops, to the
    /// next one, round the list (SequentialEndpointResolver); the receive endpoints and publishes
    /// go on there, the quorum queues being replicated on every node (docs/adr/0012).
    /// </summary>
    public static void ConfigureHost(IRabbitMqBusFactoryConfigurator cfg, RabbitMqOptions options, string? connectionName = null)
    {
        var nodes = options.Nodes();
        cfg.Host(nodes[0].Host, (ushort)nodes[0].Port, options.VirtualHost, connectionName ?? $"campaign-events {Environment.ProcessId}", h =>
        {
            h.Username(options.Username);
            h.Password(options.Password);
            h.PublisherConfirmation = true;
            if (BrokerTls.For(options) is { } tls)
            {
                h.UseSsl(s => tls.Configure(s, nodes[0].Host));
            }

            if (options.IsCluster)
            {
                h.UseCluster(c =>
                {
                    foreach (var (host, port) in nodes)
                    {
                        c.Node($"{host}:{port}");
                    }
                });
            }
        });
    }

    /// <summary>
    /// Plain JSON and the pinned names of every message of CampaignEvents.Contracts (the exchange a
    /// publish goes to); shared by every bus the project builds. The names are pinned here rather
    /// than by MassTransit's attributes, which would make the Contracts package depend on MassTransit.
    /// The message URN (header <c>MT-MessageType</c>) stays MassTransit's, namespace:type; no
    /// consumer reads it (<see cref="RawSerializerOptions.AnyMessageType"/>), and a unit test keeps it
    /// from changing unnoticed.
    /// </summary>
    public static void ConfigureWire(IRabbitMqBusFactoryConfigurator cfg)
    {
        cfg.UseRawJsonSerializer(
            RawSerializerOptions.AnyMessageType | RawSerializerOptions.AddTransportHeaders | RawSerializerOptions.CopyHeaders,
            isDefault: true);
        cfg.Message<ContactChanged>(m => m.SetEntityName(Topology.ContactChangedExchange));
        cfg.Message<ContactDeleted>(m => m.SetEntityName(Topology.ContactDeletedExchange));
        cfg.Message<ContactChangeBatch>(m => m.SetEntityName(Topology.ContactChangeBatchExchange));
        cfg.Message<CampaignChanged>(m => m.SetEntityName(Topology.CampaignChangedExchange));
        cfg.Message<ReconcileCampaign>(m => m.SetEntityName(Topology.ReconcileCampaignExchange));
        cfg.Message<CampaignReconciled>(m => m.SetEntityName(Topology.CampaignReconciledExchange));
        cfg.Message<DigestSourceContacts>(m => m.SetEntityName(Topology.DigestSourceContactsExchange));
        cfg.Message<SourceContactsDigested>(m => m.SetEntityName(Topology.SourceContactsDigestedName));
        cfg.Message<ListSourceKeys>(m => m.SetEntityName(Topology.ListSourceKeysExchange));
        cfg.Message<SourceKeysListed>(m => m.SetEntityName(Topology.SourceKeysListedName));
        cfg.Message<RepairSourceContacts>(m => m.SetEntityName(Topology.RepairSourceContactsExchange));
        cfg.Message<SourceContactsRepaired>(m => m.SetEntityName(Topology.SourceContactsRepairedName));
        cfg.Message<ListSourceCampaigns>(m => m.SetEntityName(Topology.ListSourceCampaignsExchange));
        cfg.Message<SourceCampaignsListed>(m => m.SetEntityName(Topology.SourceCampaignsListedName));
    }
}
