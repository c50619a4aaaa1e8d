using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.Sync.Configuration;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CampaignEvents.Sync.ApplyContactChanges;

/// <summary>
/// The queue <c>contact-changes</c> (quorum, bound to the three contact exchanges), its batch,
/// prefetch and retry policy (docs/adr/0002).
/// </summary>
internal sealed class ContactChangesConsumerDefinition : ConsumerDefinition<ContactChangesConsumer>
{
    readonly SyncOptions options;

    public ContactChangesConsumerDefinition(IOptions<SyncOptions> options)
    {
        this.options = options.Value;
        EndpointName = Topology.ContactChangesQueue;
        ConcurrentMessageLimit = this.options.PrefetchCount;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<ContactChangesConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        endpointConfigurator.PrefetchCount = options.PrefetchCount;

        // every body reaches the validation filter unparsed, whatever its content type says: the
        // contract is JSON and the filter reads it strictly. Without the clear, the bus's envelope
        // deserializer took application/vnd.masstransit+json and failed a valid event with
        // "Value cannot be null. (Parameter 'envelope')" (docs/adr/0002, Sync/BadInputSuiteTests)
        endpointConfigurator.ClearSerialization();
        endpointConfigurator.AddSerializer(new ContactWireDeserializer());
        endpointConfigurator.AddDeserializer(new ContactWireDeserializer(), isDefault: true);
        if (endpointConfigurator is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            rabbit.SetQuorumQueue();
            rabbit.ConfigureConsumeTopology = false;
            rabbit.Bind(Topology.ContactChangedExchange);
            rabbit.Bind(Topology.ContactDeletedExchange);
            rabbit.Bind(Topology.ContactChangeBatchExchange);
        }

        if (options.UseDelayedRedelivery)
        {
            endpointConfigurator.UseDelayedRedelivery(r =>
            {
                r.Intervals([.. options.DelayedRedeliveries]);
                r.Handle<Exception>(TransientFailures.IsTransient);
            });
        }

        // per message, before batching: see ContactValidationFilter
        endpointConfigurator.UseFilter(context.GetRequiredService<ContactValidationFilter>());

        consumerConfigurator.Options<BatchOptions>(b => b
            .SetMessageLimit(options.BatchMessageLimit)
            .SetTimeLimit(options.BatchTimeLimit)
            .SetConcurrencyLimit(options.ConcurrentBatches));

        // only the write of a batch is retried here: every message in it is already valid
        consumerConfigurator.UseMessageRetry(r =>
        {
            r.Exponential(options.TransientRetryLimit, options.TransientRetryMinInterval, options.TransientRetryMaxInterval, options.TransientRetryMinInterval);
            r.Handle<Exception>(TransientFailures.IsTransient);
        });
    }
}
