using System.Diagnostics.Metrics;
using CampaignEvents.Cli.Hosting;
using CampaignEvents.IntegrationTests.Pipeline;
using CampaignEvents.Reconciliation;
using CampaignEvents.TestSupport;
using CampaignEvents.TestSupport.Stack;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Xunit;

namespace CampaignEvents.IntegrationTests.Reconciliation;

/// <summary>A scheduled reconciliation that fails must not take the process (and its other roles) down with it.</summary>
public sealed class ScheduledReconciliationTests(IsolatedVhost vhost) : IClassFixture<IsolatedVhost>
{
    [Fact]
    public async Task When_the_local_database_is_away_scheduled_rounds_fail_are_counted_and_the_process_keeps_running()
    {
        var stack = await TestStack.Get();
        var away = new NpgsqlConnectionStringBuilder(stack.Postgres.ConnectionString) { Database = $"ce_absent_{Guid.NewGuid():N}"[..24] };
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Contacts"] = away.ConnectionString,
            ["RabbitMq:Host"] = vhost.Rabbit.Host,
            ["RabbitMq:Port"] = vhost.Rabbit.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RabbitMq:VirtualHost"] = vhost.Rabbit.VirtualHost,
            ["RabbitMq:Username"] = vhost.Rabbit.Username,
            ["RabbitMq:Password"] = vhost.Rabbit.Password,
            ["Reconciliation:Interval"] = "00:00:00.200",
            ["Logging:LogLevel:Default"] = "Warning",
        };

        using var host = await RoleHosts.Build([Role.Reconcile], settings);
        // this host's counter only: test classes running beside this one host reconcilers of their own, whose
        // counters (0) would otherwise be observed after this one and overwrite it
        var meters = host.Services.GetRequiredService<IMeterFactory>();
        long failures = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == ReconciliationMetrics.ScheduledFailuresName && ReferenceEquals(instrument.Meter.Scope, meters))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        // an observable counter: each observation is the total so far
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Exchange(ref failures, value));
        listener.Start();

        await host.StartAsync();
        try
        {
            var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
            await Eventually.Until(
                () =>
                {
                    listener.RecordObservableInstruments();
                    return Task.FromResult(Interlocked.Read(ref failures) >= 3 || lifetime.ApplicationStopping.IsCancellationRequested);
                },
                TimeSpan.FromSeconds(30), "three failed scheduled rounds counted");
            Assert.False(lifetime.ApplicationStopping.IsCancellationRequested, "a failed scheduled reconciliation stopped the host");
            Assert.True(Interlocked.Read(ref failures) >= 3);
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
