using CampaignEvents.Infrastructure.Messaging;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Xunit;

namespace CampaignEvents.UnitTests.Configuration;

/// <summary>
/// MassTransit reports usage to usage-tracking.masstransit.io unless told not to. An operator's
/// pipeline that holds personal data talks to its own servers only (README: Hardening checklist).
/// </summary>
public sealed class UsageTelemetryTests
{
    [Fact]
    public void The_bus_does_not_report_usage_to_MassTransit()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.AddCampaignEventsBus();
        using var services = builder.Services.BuildServiceProvider();

        var telemetry = services.GetRequiredService<IOptions<UsageTelemetryOptions>>().Value;

        Assert.False(telemetry.Enabled);
    }
}
