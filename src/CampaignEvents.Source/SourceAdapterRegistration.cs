using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.Source.Capture;
using CampaignEvents.Source.Continuity;
using CampaignEvents.Source.Mapping;
using CampaignEvents.Source.Polling;
using CampaignEvents.Source.Publishing;
using CampaignEvents.Source.SlotHealth;
using CampaignEvents.Source.State;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace CampaignEvents.Source;

public static class SourceAdapterRegistration
{
    /// <summary>The source role: captures changes of the external database and publishes them.</summary>
    public static IHostApplicationBuilder AddSourceAdapter(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSourceMapping();
        builder.Services.AddMetrics();
        builder.Services.AddSingleton<SourceMetrics>();
        builder.Services.AddSingleton<AdapterState>();
        builder.Services.AddSingleton<VersionDomainGuard>();
        builder.Services.AddSingleton<SlotMonitor>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<SlotMonitor>());
        builder.Services.AddSingleton<IEventSink, BusEventSink>();
        builder.Services.AddSingleton<ReplicationCapture>();
        builder.Services.AddSingleton<PollingCapture>();
        builder.AddTopologyPart(TopologyParts.Contract);
        builder.Services.AddHostedService<SourceAdapterService>();
        builder.Services.AddHealthChecks().AddCheck<ReplicationSlotHealthCheck>("replication-slot", tags: ["ready"]);
        return builder;
    }
}
