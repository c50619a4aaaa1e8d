using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.Sync.ApplyCampaignChanges;
using CampaignEvents.Sync.ApplyContactChanges;
using CampaignEvents.Sync.Configuration;
using CampaignEvents.Sync.LocalDatabase;
using CampaignEvents.Sync.Tombstones;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace CampaignEvents.Sync;

public static class ContactSyncRegistration
{
    /// <summary>The sync role: consumers that apply contact and campaign events to the local database.</summary>
    public static IHostApplicationBuilder AddContactSync(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<SyncOptions>()
            .BindConfiguration(SyncOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SyncOptions>, SyncOptionsValidation>());
        builder.Services.AddSingleton<SyncMetrics>();
        builder.Services.AddSingleton<DatabaseBreaker>();
        builder.Services.AddSingleton<ContactStore>();
        builder.Services.AddSingleton<CampaignDirectory>();
        builder.Services.AddSingleton<ContactValidationFilter>();
        builder.Services.AddSingleton(sp => new BytesInFlight(sp.GetRequiredService<IOptions<SyncOptions>>().Value.MaxBytesInFlight));
        builder.Services.AddHostedService<TombstoneCleanup>();
        builder.AddTopologyPart(TopologyParts.Sync);
        builder.AddWaitQueues(services => services.GetRequiredService<IOptions<SyncOptions>>().Value.CampaignWaits);
        builder.AddBusPart(x =>
        {
            x.AddConsumer<ContactChangesConsumer, ContactChangesConsumerDefinition>();
            x.AddConsumer<CampaignChangedConsumer, CampaignChangedConsumerDefinition>();
        });
        return builder;
    }
}
