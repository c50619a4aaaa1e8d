using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.Source.Mapping;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace CampaignEvents.Source.ReconciliationSide;

public static class ReconciliationSideRegistration
{
    /// <summary>
    /// The source side of reconciliation, hosted with the source role: answers digest and key
    /// requests from the external database with the adapter's mapping, and re-publishes drifted keys.
    /// </summary>
    public static IHostApplicationBuilder AddReconciliationSourceSide(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSourceMapping();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<SourceContacts>();
        // repairs are published to the contract's exchanges
        builder.AddTopologyPart(TopologyParts.SourceSide | TopologyParts.Contract);
        builder.AddBusPart(x =>
        {
            x.AddConsumer<DigestSourceContactsConsumer, SourceSideConsumerDefinition<DigestSourceContactsConsumer>>();
            x.AddConsumer<ListSourceKeysConsumer, SourceSideConsumerDefinition<ListSourceKeysConsumer>>();
            x.AddConsumer<RepairSourceContactsConsumer, SourceSideConsumerDefinition<RepairSourceContactsConsumer>>();
            x.AddConsumer<ListSourceCampaignsConsumer, SourceSideConsumerDefinition<ListSourceCampaignsConsumer>>();
        });
        return builder;
    }
}
