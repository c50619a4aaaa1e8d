using MassTransit;

namespace CampaignEvents.Source.ReconciliationSide;

/// <summary>A source-side consumer and the queue it reads.</summary>
internal interface ISourceSideEndpoint
{
    /// <summary>The consumer's quorum queue (named in <c>Topology</c>), which the requesters send to.</summary>
    static abstract string Queue { get; }
}

/// <summary>The source side's endpoints: one quorum queue per request type, only sent to (no exchange bindings by type).</summary>
internal sealed class SourceSideConsumerDefinition<TConsumer> : ConsumerDefinition<TConsumer>
    where TConsumer : class, IConsumer, ISourceSideEndpoint
{
    public SourceSideConsumerDefinition()
    {
        EndpointName = TConsumer.Queue;
        ConcurrentMessageLimit = 2;
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<TConsumer> consumerConfigurator, IRegistrationContext context)
    {
        endpointConfigurator.ConfigureConsumeTopology = false;
        if (endpointConfigurator is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            rabbit.SetQuorumQueue();
        }
    }
}
