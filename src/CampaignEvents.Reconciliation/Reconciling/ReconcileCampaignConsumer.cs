using CampaignEvents.Contracts.Reconciliation;
using CampaignEvents.Infrastructure.Messaging;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace CampaignEvents.Reconciliation.Reconciling;

/// <summary>
/// Reconciles the campaign a <see cref="ReconcileCampaign"/> names, publishes the report as
/// <see cref="CampaignReconciled"/> and answers the requester with it. A run that cannot report
/// (unknown campaign, silent source side) answers with outcome <c>error</c> and changes nothing.
/// </summary>
internal sealed partial class ReconcileCampaignConsumer(Reconciler reconciler, TimeProvider time, ILogger<ReconcileCampaignConsumer> logger) : IConsumer<ReconcileCampaign>
{
    public async Task Consume(ConsumeContext<ReconcileCampaign> context)
    {
        var command = context.Message;
        var startedAt = time.GetUtcNow();
        CampaignReconciled report;
        try
        {
            report = await reconciler.Reconcile(command.CampaignId, command.Repair, command.SourceTimeout, context.CancellationToken);
            ReconciliationLog.Write(logger, report);
        }
        catch (ReconciliationException e)
        {
            LogFailed(command.CampaignId, e.Message);
            report = new CampaignReconciled
            {
                RunId = Guid.Empty,
                CampaignId = command.CampaignId,
                Outcome = ReconciliationOutcomes.Error,
                Error = e.Message,
                StartedAt = startedAt,
                FinishedAt = time.GetUtcNow(),
                RepairRequested = command.Repair,
            };
        }

        await context.Publish(report);
        if (context.ResponseAddress is not null)
        {
            await context.Answer(report);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Campaign {CampaignId}: reconciliation failed: {Reason}")]
    partial void LogFailed(Guid campaignId, string reason);
}

/// <summary>The queue <c>reconciliation</c> (quorum), bound to the exchange <c>reconcile-campaign</c>; one campaign at a time.</summary>
internal sealed class ReconcileCampaignConsumerDefinition : ConsumerDefinition<ReconcileCampaignConsumer>
{
    public ReconcileCampaignConsumerDefinition()
    {
        EndpointName = Topology.ReconciliationQueue;
        ConcurrentMessageLimit = 1;
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<ReconcileCampaignConsumer> consumerConfigurator, IRegistrationContext context)
    {
        if (endpointConfigurator is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            rabbit.SetQuorumQueue();
        }
    }
}
