using CampaignEvents.Infrastructure.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CampaignEvents.Infrastructure.Messaging;

/// <summary>
/// Declares the whole broker topology before the bus starts (registered ahead of MassTransit), so
/// this process can publish before any consumer has ever run (docs/adr/0011). A broker that does
/// not answer yet is asked again for a minute; a conflicting declaration stops the start with one line.
/// </summary>
sealed partial class BrokerTopologyStartup(BrokerTopology topology, ILogger<BrokerTopologyStartup> logger) : IHostedService
{
    static readonly TimeSpan Patience = TimeSpan.FromMinutes(1);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + Patience;
        var pause = TimeSpan.FromMilliseconds(250);
        while (true)
        {
            try
            {
                var queues = await topology.Declare(cancellationToken);
                LogDeclared(queues.Count);
                return;
            }
            catch (SettingsException e) when (e.InnerException is RabbitMQ.Client.Exceptions.OperationInterruptedException { ShutdownReason.ReplyCode: 406 or 403 })
            {
                throw;
            }
            catch (Exception e) when (e is not OperationCanceledException && DateTime.UtcNow < deadline)
            {
                LogRetrying(e.Message, pause.TotalSeconds);
                await Task.Delay(pause, cancellationToken);
                pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Broker topology declared ({Queues} queues with their exchanges and bindings)")]
    partial void LogDeclared(int queues);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot declare the broker topology yet ({Reason}); trying again in {Seconds:0.##} s")]
    partial void LogRetrying(string reason, double seconds);
}
