using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.Sync.ApplyContactChanges;
using CampaignEvents.Sync.Configuration;
using MassTransit;
using Microsoft.Extensions.Options;

namespace CampaignEvents.Sync.ApplyCampaignChanges;

/// <summary>The queue <c>campaign-changes</c> (quorum) bound to <c>campaign-changed</c>; transient failures retried.</summary>
internal sealed class CampaignChangedConsumerDefinition : ConsumerDefinition<CampaignChangedConsumer>
{
    readonly SyncOptions options;

    public CampaignChangedConsumerDefinition(IOptions<SyncOptions> options)
    {
        this.options = options.Value;
        EndpointName = Topology.CampaignChangesQueue;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<CampaignChangedConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        if (endpointConfigurator is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            rabbit.SetQuorumQueue();
            rabbit.ConfigureConsumeTopology = false;
            rabbit.Bind(Topology.CampaignChangedExchange);
        }

        consumerConfigurator.UseMessageRetry(r =>
        {
            r.Exponential(options.TransientRetryLimit, options.TransientRetryMinInterval, options.TransientRetryMaxInterval, options.TransientRetryMinInterval);
            r.Handle<Exception>(TransientFailures.IsTransient);
        });
    }
}
