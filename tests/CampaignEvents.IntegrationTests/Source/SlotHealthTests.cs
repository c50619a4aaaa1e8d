using System.Diagnostics.Metrics;
using System.Text.Json;
using CampaignEvents.Source;
using CampaignEvents.TestSupport;
using CampaignEvents.TestSupport.Stack;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Xunit;

namespace CampaignEvents.IntegrationTests.Source;

/// <summary>
/// Issue 13: the slot's wal_status and lag are visible in <c>/readyz</c> (the health checks it
/// serves), <c>status --json</c> and the lag gauges; readiness fails above Source:MaxReadyLagBytes.
/// </summary>
public sealed class SlotHealthTests(IsolatedVhost vhost) : IClassFixture<IsolatedVhost>
{
    [Fact]
    public async Task Readyz_status_and_the_gauges_show_wal_status_and_lag()
    {
        await using var world = await SourceWorld.Create(vhost, "slothealth");
        world.Settings["Source:SlotStatusInterval"] = "00:00:01";
        var campaigns = await world.CreateCampaigns(1);
        await world.Seed(SlotPipeline.Rows(campaigns, 50));
        var adapter = await world.StartAdapter();
        await world.Converged(SlotPipeline.Deadline);

        var checks = adapter.Services.GetRequiredService<HealthCheckService>();
        HealthReport report = null!;
        await Eventually.Until(async () => (report = await checks.CheckHealthAsync()).Status == HealthStatus.Healthy, SlotPipeline.Deadline, () => $"ready: {Describe(report)}");
        var slot = report.Entries["replication-slot"].Description!;
        Assert.Contains($"replication slot {world.Slot} streaming, wal_status reserved", slot, StringComparison.Ordinal);
        Assert.Matches(@"[\d,]+ bytes of WAL behind, \d+\.\d s behind", slot);

        var status = await CliProcess.Run(["status", "--json"], SlotPipeline.Environment(world, Job.Status));
        var json = JsonDocument.Parse(status.Output).RootElement.GetProperty("slot");
        Assert.True(json.GetProperty("exists").GetBoolean(), status.ToString());
        Assert.Equal("reserved", json.GetProperty("walStatus").GetString());
        Assert.True(json.GetProperty("lagBytes").GetInt64() >= 0, status.ToString());
        Assert.True(json.TryGetProperty("flushLagSeconds", out _), status.ToString());
        Assert.True(json.TryGetProperty("confirmedFlushLsn", out _), status.ToString());

        var gauges = new Dictionary<string, double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == SourceMetrics.MeterName && instrument.Name.StartsWith("campaign_events.source.slot_lag_", StringComparison.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => gauges[instrument.Name] = value);
        listener.SetMeasurementEventCallback<double>((instrument, value, _, _) => gauges[instrument.Name] = value);
        listener.Start();
        listener.RecordObservableInstruments();
        Assert.True(gauges.ContainsKey("campaign_events.source.slot_lag_bytes"), string.Join(", ", gauges.Keys));
        Assert.True(gauges["campaign_events.source.slot_lag_seconds"] >= 0);
    }

    [Fact]
    public async Task Readiness_fails_above_the_configured_lag_in_bytes()
    {
        await using var world = await SourceWorld.Create(vhost, "slotlag");
        world.Settings["Source:SlotStatusInterval"] = "00:00:01";
        world.Settings["Source:MaxReadyLagBytes"] = "1024";
        // no heartbeat within the test: the slot stays where the last captured change left it
        world.Settings["Source:HeartbeatInterval"] = "01:00:00";
        var adapter = await world.StartAdapter();
        await SlotPipeline.WaitForSnapshot(world);

        // WAL the slot does not carry (a table outside the publication) moves the source away from it
        await using (var connection = await world.Source.OpenConnectionAsync())
        {
            await connection.ExecuteAsync("CREATE TABLE outside_the_publication AS SELECT g, repeat('x', 100) AS filler FROM generate_series(1, 2000) g");
        }

        var checks = adapter.Services.GetRequiredService<HealthCheckService>();
        HealthReport report = null!;
        await Eventually.Until(async () => (report = await checks.CheckHealthAsync()).Entries["replication-slot"].Status == HealthStatus.Unhealthy, SlotPipeline.Deadline, () => $"not ready: {Describe(report)}");
        Assert.Equal(HealthStatus.Unhealthy, report.Status);
        Assert.Contains("more than Source:MaxReadyLagBytes (1,024)", report.Entries["replication-slot"].Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_lag_setting_out_of_range_fails_the_start_with_one_line_naming_it()
    {
        await using var world = await SourceWorld.Create(vhost, "slotsetting");
        var result = await CliProcess.Run(["run", "--role", "source"], SlotPipeline.Environment(world, Job.Source, ("Source__MaxReadyLag", "00:00:00")));
        SlotPipeline.OneLine(result, "Source:MaxReadyLag must be between 00:00:01 and 7.00:00:00");
    }

    static string Describe(HealthReport? report) =>
        report is null ? "no report" : string.Join("; ", report.Entries.Select(e => $"{e.Key} {e.Value.Status}: {e.Value.Description}"));
}
