using CampaignEvents.Contracts.Reconciliation;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.Reconciliation.LocalSide;
using CampaignEvents.Reconciliation.Reconciling;
using CampaignEvents.Reconciliation.Scheduling;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace CampaignEvents.Reconciliation;

public static class ReconciliationRegistration
{
    /// <summary>The reconcile role: compares digests of both sides and reports or repairs drift.</summary>
    public static IHostApplicationBuilder AddReconciliation(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ReconciliationOptions>()
            .BindConfiguration(ReconciliationOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddMetrics();
        builder.Services.AddSingleton<ReconciliationMetrics>();
        builder.Services.AddSingleton<LocalContacts>();
        builder.Services.AddSingleton<ReconciliationRuns>();
        builder.Services.AddScoped<BucketDrillDown>();
        builder.Services.AddScoped<InFlightSettle>();
        builder.Services.AddScoped<RepairConvergence>();
        builder.Services.AddScoped<Reconciler>();
        builder.Services.AddScoped<Campaigns>();
        builder.Services.AddHostedService<ScheduledReconciliation>();
        builder.AddTopologyPart(TopologyParts.Reconcile);
        builder.AddBusPart(x =>
        {
            x.AddConsumer<ReconcileCampaignConsumer, ReconcileCampaignConsumerDefinition>();
            AddSourceClients(x);
        });
        return builder;
    }

    /// <summary>
    /// Request clients for the source side's queues and the reconciliation queue. They send to the
    /// queue's own exchange (<c>exchange:</c>), not <c>queue:</c>: a sender would declare the queue as a
    /// classic queue, and these are quorum queues declared by their consumers.
    /// </summary>
    public static void AddSourceClients(IBusRegistrationConfigurator x)
    {
        x.AddRequestClient<DigestSourceContacts>(new Uri($"exchange:{Topology.ReconciliationSourceDigestQueue}"));
        x.AddRequestClient<ListSourceKeys>(new Uri($"exchange:{Topology.ReconciliationSourceKeysQueue}"));
        x.AddRequestClient<RepairSourceContacts>(new Uri($"exchange:{Topology.ReconciliationSourceRepairQueue}"));
        x.AddRequestClient<ListSourceCampaigns>(new Uri($"exchange:{Topology.ReconciliationSourceCampaignsQueue}"));
        x.AddRequestClient<ReconcileCampaign>(new Uri($"exchange:{Topology.ReconciliationQueue}"));
    }
}
