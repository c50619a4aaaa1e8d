using System.Globalization;
using System.Net;
using CampaignEvents.Cli.Hosting;
using CampaignEvents.IntegrationTests.Cli;
using CampaignEvents.IntegrationTests.Pipeline;
using CampaignEvents.IntegrationTests.Source;
using CampaignEvents.IntegrationTests.Sync;
using CampaignEvents.TestSupport;
using CampaignEvents.TestSupport.Stack;
using Dapper;
using Npgsql;
using Xunit;

namespace CampaignEvents.IntegrationTests.Observability;

/// <summary>
/// One real <c>campaign-events run</c> (every role, as a process) on a source that changes, with
/// upstream events, a bad message, a contact whose campaign is missing and a local row removed
/// behind the pipeline's back: what an operator scrapes from /metrics (the end-to-end latency
/// histogram, applied / rejected / waiting counts, slot lag, readiness, reconciliation drift), that
/// every metric the alert rules and the dashboard query is among them, and that the OTLP option
/// sends MassTransit's and Npgsql's traces and the metrics to a collector.
/// </summary>
public sealed class OperatorMetricsTests(IsolatedVhost vhost) : IClassFixture<IsolatedVhost>
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    const string Latency = "campaign_events_sync_end_to_end_latency_seconds";

    [Fact]
    public async Task A_run_exports_the_latency_histogram_the_counts_and_every_metric_the_alerts_and_dashboard_use_and_sends_OTLP()
    {
        await using var world = await SourceWorld.Create(vhost, "operatormetrics");
        var campaigns = await world.CreateCampaigns(2);
        await InsertSourceContacts(world, campaigns[0], 0, 20);
        await using (var source = await world.Source.OpenConnectionAsync())
        {
            // a row the adapter cannot map: rejected at source
            await source.ExecuteAsync("INSERT INTO contacts (campaign_id, phone_number, metadata) VALUES (@campaign, 'not a phone', '{}')", new { campaign = campaigns[1] });
        }

        await using var collector = OtlpReceiver.Start();
        var (metricsPort, healthPort) = (RunProcess.FreePort(), RunProcess.FreePort());
        // deployed as operators do (migrate --topology, as the administrator), run as the pipeline's job
        await RoleHosts.DeclareTopology([Role.Source, Role.Sync, Role.Reconcile], world.Settings);
        var environment = Identities.As(Job.Pipeline, world.Settings).ToDictionary(s => s.Key.Replace(":", "__", StringComparison.Ordinal), s => s.Value);
        environment["Observability__MetricsPort"] = metricsPort.ToString(CultureInfo.InvariantCulture);
        environment["Observability__HealthPort"] = healthPort.ToString(CultureInfo.InvariantCulture);
        environment["Observability__OtlpEndpoint"] = collector.Endpoint;
        // the SDK's own settings: push every second instead of every minute
        environment["OTEL_METRIC_EXPORT_INTERVAL"] = "1000";
        environment["OTEL_BSP_SCHEDULE_DELAY"] = "500";
        environment["Reconciliation__Interval"] = "00:00:03";
        environment["Reconciliation__Settle"] = "00:00:00.5";
        await using var run = RunProcess.Start(["run"], environment);

        await Eventually.Until(async () => await RunProcess.Status($"http://127.0.0.1:{healthPort}/readyz") == HttpStatusCode.OK, Deadline, () => $"/readyz 200; the process wrote:\n{run}");
        var users = await Identities.RequireJobUsersOnBroker(vhost.Management, vhost.Name);
        Assert.All(users, c => Assert.Equal(Identities.BrokerUser(Job.Pipeline), c.User));
        await world.LocalEqualsSource(Deadline, context: () => $"\n{run}");

        // streamed changes: their occurredAt is the source commit's time
        await InsertSourceContacts(world, campaigns[0], 20, 10);
        await world.LocalEqualsSource(Deadline, context: () => $"\n{run}");

        // upstream events: one that occurred 90 s ago, one invalid, one whose campaign is missing
        var ninetySecondsAgo = DateTimeOffset.UtcNow.AddSeconds(-90).ToString("O", CultureInfo.InvariantCulture);
        await using (var connection = await SyncHarness.Connect(vhost.Rabbit))
        {
            await SyncHarness.PublishRaw(connection,
            [
                ("contact-changed", $$"""{"eventId":"{{Guid.NewGuid()}}","campaignId":"{{campaigns[0]}}","phoneNumber":"+12015550199","version":1,"occurredAt":"{{ninetySecondsAgo}}","metadata":{"from":"upstream"} }"""),
                ("contact-changed", $$"""{"eventId":"{{Guid.NewGuid()}}","campaignId":"{{campaigns[0]}}","phoneNumber":"123","version":1,"occurredAt":"{{ninetySecondsAgo}}","metadata":{} }"""),
                ("contact-changed", $$"""{"eventId":"{{Guid.NewGuid()}}","campaignId":"{{Guid.NewGuid()}}","phoneNumber":"+12015550198","version":1,"occurredAt":"{{ninetySecondsAgo}}","metadata":{} }"""),
            ]);
        }

        // drift behind the pipeline's back: a local row removed
        await using (var local = new NpgsqlConnection(world.LocalDb.ConnectionString))
        {
            await Eventually.Until(
                async () => await local.ExecuteScalarAsync<int>("SELECT count(*) FROM contacts WHERE phone_number = '+12015550199'") == 1,
                Deadline,
                () => $"the upstream event applied\n{run}");
            await local.ExecuteAsync("DELETE FROM contacts WHERE phone_number = '+12015550100'");
        }

        var scrape = "";
        await Eventually.Until(async () =>
        {
            scrape = await Http.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics");
            return ObservabilityFiles.Sum(scrape, "campaign_events_sync_rejected_messages_total", "reason=\"invalid\"") >= 1
                && ObservabilityFiles.Sum(scrape, "campaign_events_sync_waiting_messages_total") >= 1
                && ObservabilityFiles.Sum(scrape, "campaign_events_reconciliation_drift_keys") >= 1
                && ObservabilityFiles.Sum(scrape, "campaign_events_source_slot_lag_bytes") is not null
                && ObservabilityFiles.Sum(scrape, "campaign_events_health_ready", "check=\"replication-slot\"") == 1
                && ObservabilityFiles.Sum(scrape, Latency + "_bucket", "le=\"120\"") - ObservabilityFiles.Sum(scrape, Latency + "_bucket", "le=\"60\"") >= 1;
        }, Deadline, () => $"the counts, gauges and latency on /metrics:\n{scrape}\n{run}");

        // the 30 contacts of the source (snapshot and stream) took less than 30 s each; the upstream event 60-120 s
        Assert.True(ObservabilityFiles.Sum(scrape, Latency + "_count") >= 31, scrape);
        Assert.True(ObservabilityFiles.Sum(scrape, Latency + "_bucket", "le=\"30\"") >= 30, scrape);
        Assert.Equal(1, ObservabilityFiles.Sum(scrape, Latency + "_bucket", "le=\"120\"") - ObservabilityFiles.Sum(scrape, Latency + "_bucket", "le=\"60\""));
        Assert.Equal(1, ObservabilityFiles.Sum(scrape, "campaign_events_health_ready", "check=\"replication-slot\""));
        Assert.Equal(1, ObservabilityFiles.Sum(scrape, "campaign_events_health_ready", "check=\"database-contacts\""));
        Assert.True(ObservabilityFiles.Sum(scrape, "campaign_events_sync_applied_rows_total", "outcome=\"upserted\"") >= 31, scrape);
        Assert.True(ObservabilityFiles.Sum(scrape, "campaign_events_source_rejected_rows_total") >= 1, scrape);

        // every metric of ours that the alert rules and the dashboard query is one this run exports
        var exported = ObservabilityFiles.SampleNames(scrape);
        var referenced = ObservabilityFiles.ReferencedMetrics("campaign_events_");
        Assert.NotEmpty(referenced);
        Assert.All(referenced, name => Assert.True(exported.Contains(name), $"{name} is queried by infra/compose/observability but not exported; exported: {string.Join(", ", exported.Where(n => n.StartsWith("campaign_events_", StringComparison.Ordinal)).Order())}"));

        // OTLP: MassTransit's and Npgsql's spans, and our metrics, reached the collector
        await Eventually.Until(
            () => Task.FromResult(
                collector.Received("/v1/traces", "MassTransit").Holds
                && collector.Received("/v1/traces", "Npgsql").Holds
                && collector.Received("/v1/metrics", "campaign_events.sync.end_to_end_latency").Holds
                && collector.Received("/v1/metrics", "campaign_events.source.slot_lag_bytes").Holds),
            Deadline,
            () => $"traces and metrics at the OTLP collector ({collector.Summary()})\n{run}");

        Assert.Equal(0, await run.Stop());
    }

    static async Task InsertSourceContacts(SourceWorld world, Guid campaign, int from, int count)
    {
        await using var source = await world.Source.OpenConnectionAsync();
        for (var i = from; i < from + count; i++)
        {
            await source.ExecuteAsync(
                "INSERT INTO contacts (campaign_id, phone_number, metadata) VALUES (@campaign, @phone, @metadata::jsonb)",
                new { campaign, phone = $"+1201555{100 + i:0000}", metadata = $$"""{"n": {{i}}}""" });
        }
    }
}
