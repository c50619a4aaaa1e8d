using System.Diagnostics;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.Cli.Hosting;
using CampaignEvents.IntegrationTests.Pipeline;
using CampaignEvents.TestSupport;
using CampaignEvents.TestSupport.Stack;
using Xunit;
using static CampaignEvents.IntegrationTests.Sync.SyncHarness;

namespace CampaignEvents.IntegrationTests.Sync;

/// <summary>
/// Contacts published before their campaign (a normal race for upstream systems) or for a campaign
/// that never comes (a normal misconfiguration) wait in the broker's wait queues, not in the
/// consumer: other campaigns go on, a stop is prompt, and nothing is lost (issue: "Nothing lost,
/// whatever starts first", item 2).
/// </summary>
public static class CampaignWait
{
    /// <summary>
    /// Steps of 3 s (one wait queue, contact-changes-wait-3s), 40 of them: the flood never reaches
    /// the error queue here, and it stays away long enough between looks that its round trips do
    /// not crowd the consumer on a busy machine.
    /// </summary>
    public static readonly TimeSpan Step = TimeSpan.FromSeconds(3);

    public static Dictionary<string, string?> Steps() =>
        Enumerable.Range(0, 40).ToDictionary(i => $"Sync:CampaignWaitIntervals:{i}", _ => (string?)Step.ToString());

    public static string Campaign(Guid id, string name = "late") =>
        $$"""{"eventId":"{{Guid.NewGuid()}}","id":"{{id}}","name":"{{name}}","type":"voice","status":"active","config":{},"version":1,"occurredAt":"2026-01-01T00:00:00Z"}""";

    public static IEnumerable<(string, string)> Flood(Guid campaign, int count, int firstPhone) =>
        Enumerable.Range(firstPhone, count).Select(i => (Topology.ContactChangedExchange, Changed(campaign, $"+1201555{i:0000}", 1)));

    public static async Task<long> Waiting(IsolatedVhost vhost) => await vhost.MessagesReady(Topology.WaitQueue(Step));
}

/// <summary>Each test hosts its own sync role on its own database and vhost, with the wait steps it needs.</summary>
public sealed class CampaignWaitTests
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_flood_waiting_for_its_campaign_does_not_hold_back_other_campaigns_and_is_applied_once_the_campaign_arrives()
    {
        await using var database = new IsolatedDatabase();
        await database.InitializeAsync();
        await using var vhost = new IsolatedVhost();
        await vhost.InitializeAsync();
        var known = await InsertCampaign(database.DataSource);
        var late = Guid.NewGuid();
        using var host = await StartSync(database.Connection.ConnectionString, vhost.Rabbit, CampaignWait.Steps());
        try
        {
            await using var broker = await Connect(vhost.Rabbit);

            // 2,000 contacts of a campaign that is not there, then 100 of one that is
            await PublishRaw(broker, CampaignWait.Flood(late, 2000, 0));
            await PublishRaw(broker, CampaignWait.Flood(known, 100, 5000));

            await Eventually.Until(
                async () => await Count(database.DataSource, "SELECT count(*) FROM contacts WHERE campaign_id = @known", new { known }) == 100,
                TimeSpan.FromSeconds(30), "the 100 contacts of the known campaign applied behind the flood");
            Assert.Equal(0, await Count(database.DataSource, "SELECT count(*) FROM contacts WHERE campaign_id = @late", new { late }));
            // the dashboard's figures lag by a few seconds
            await Eventually.Until(async () => await CampaignWait.Waiting(vhost) > 0, TimeSpan.FromSeconds(20), "the flood seen waiting in contact-changes-wait-3s");

            // the campaign arrives; the waiting contacts come back by themselves
            await PublishRaw(broker, [(Topology.CampaignChangedExchange, CampaignWait.Campaign(late))]);
            await Eventually.Until(
                async () => await Count(database.DataSource, "SELECT count(*) FROM contacts WHERE campaign_id = @late", new { late }) == 2000,
                Deadline, "the flood applied once its campaign arrived");
            Assert.Equal(0, await vhost.MessagesReady(Topology.ErrorQueue(Topology.ContactChangesQueue)));
            await Eventually.Until(async () => await CampaignWait.Waiting(vhost) == 0, Deadline, "the wait queue empty");
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task A_batch_mixing_a_missing_campaign_with_a_present_one_applies_the_present_part_at_once_and_the_rest_once_its_campaign_arrives()
    {
        await using var database = new IsolatedDatabase();
        await database.InitializeAsync();
        await using var vhost = new IsolatedVhost();
        await vhost.InitializeAsync();
        var known = await InsertCampaign(database.DataSource);
        var late = Guid.NewGuid();
        using var host = await StartSync(database.Connection.ConnectionString, vhost.Rabbit, CampaignWait.Steps());
        try
        {
            await using var broker = await Connect(vhost.Rabbit);
            var items = Enumerable.Range(0, 100).Select(i => Changed(i % 2 == 0 ? known : late, $"+1201556{i:0000}", 1));
            var batch = $$"""{"batchId":"{{Guid.NewGuid()}}","changes":[{{string.Join(",", items)}}]}""";
            await PublishRaw(broker, [(Topology.ContactChangeBatchExchange, batch)]);

            await Eventually.Until(
                async () => await Count(database.DataSource, "SELECT count(*) FROM contacts WHERE campaign_id = @known", new { known }) == 50,
                TimeSpan.FromSeconds(20), "the half of the batch whose campaign is there applied while the other half waits");
            Assert.Equal(0, await Count(database.DataSource, "SELECT count(*) FROM contacts WHERE campaign_id = @late", new { late }));

            await PublishRaw(broker, [(Topology.CampaignChangedExchange, CampaignWait.Campaign(late))]);
            await Eventually.Until(
                async () => await Count(database.DataSource, "SELECT count(*) FROM contacts WHERE campaign_id = @late", new { late }) == 50,
                Deadline, "the other half applied once its campaign arrived");
            Assert.Equal(50, await Count(database.DataSource, "SELECT count(*) FROM contacts WHERE campaign_id = @known", new { known }));
            Assert.Equal(0, await vhost.MessagesReady(Topology.ErrorQueue(Topology.ContactChangesQueue)));
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task A_contact_whose_campaign_never_comes_ends_in_the_error_queue_with_that_reason_after_its_last_step()
    {
        await using var database = new IsolatedDatabase();
        await database.InitializeAsync();
        await using var vhost = new IsolatedVhost();
        await vhost.InitializeAsync();
        var missing = Guid.NewGuid();
        var steps = new Dictionary<string, string?>
        {
            ["Sync:CampaignWaitIntervals:0"] = "00:00:00.300",
            ["Sync:CampaignWaitIntervals:1"] = "00:00:00.600",
        };
        using var host = await StartSync(database.Connection.ConnectionString, vhost.Rabbit, steps);
        try
        {
            await using var broker = await Connect(vhost.Rabbit);
            var json = Changed(missing, "+12015559999", 1);
            await PublishRaw(broker, [(Topology.ContactChangedExchange, json)]);

            await Eventually.Until(
                async () => (await Peek(vhost, Topology.ErrorQueue(Topology.ContactChangesQueue))).Any(e => e.Payload == json),
                Deadline, "the contact of the missing campaign in the error queue");
            var error = (await Peek(vhost, Topology.ErrorQueue(Topology.ContactChangesQueue))).Single(e => e.Payload == json);
            Assert.Contains($"unknown campaign {missing}", error.Header("MT-Fault-Message"), StringComparison.Ordinal);
            Assert.Contains("Sync:CampaignWaitIntervals", error.Header("MT-Fault-Message"), StringComparison.Ordinal);

            // it went through both steps' wait queues on the way
            Assert.Equal("2", error.Header(CampaignEvents.Sync.ApplyContactChanges.ContactRedirect.WaitAttemptHeader));
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task A_sync_process_stopped_with_SIGTERM_during_a_flood_ends_in_seconds_and_loses_no_waiting_contact()
    {
        await using var database = new IsolatedDatabase();
        await database.InitializeAsync();
        await using var vhost = new IsolatedVhost();
        await vhost.InitializeAsync();
        var late = Guid.NewGuid();
        var environment = new Dictionary<string, string?>
        {
            ["ConnectionStrings__Contacts"] = database.Connection.ConnectionString,
            ["RabbitMq__Host"] = vhost.Rabbit.Host,
            ["RabbitMq__Port"] = vhost.Rabbit.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RabbitMq__VirtualHost"] = vhost.Rabbit.VirtualHost,
            ["RabbitMq__Username"] = vhost.Rabbit.Username,
            ["RabbitMq__Password"] = vhost.Rabbit.Password,
            ["Observability__MetricsPort"] = "0",
            ["Observability__HealthPort"] = "0",
        };
        foreach (var (key, value) in CampaignWait.Steps())
        {
            environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        // deployed as operators do (migrate --topology, as the administrator), run as the sync job
        await RoleHosts.DeclareTopology([Role.Sync], environment);
        foreach (var (key, value) in Identities.Environment(Job.Sync, database.Connection, null))
        {
            environment[key] = value;
        }

        using var process = System.Diagnostics.Process.Start(CliProcess.StartInfo(["run", "--role", "sync"], environment))!;
        var output = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await Eventually.Until(async () => await Consumers(vhost, Topology.ContactChangesQueue) > 0, Deadline, () => $"the sync process consuming contact-changes; it wrote:\n{output}");
            await using var broker = await Connect(vhost.Rabbit);
            await PublishRaw(broker, CampaignWait.Flood(late, 2000, 0));
            await Eventually.Until(async () => await CampaignWait.Waiting(vhost) > 0, TimeSpan.FromSeconds(20), "the flood seen waiting in contact-changes-wait-3s");

            var stopping = Stopwatch.StartNew();
            using (var kill = System.Diagnostics.Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await process.WaitForExitAsync(patience.Token);
            stopping.Stop();
            Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(10), $"SIGTERM took {stopping.Elapsed.TotalSeconds:0.0} s to end the sync process");
            Assert.Equal(0, process.ExitCode);

            // nothing of the flood was lost or given up on by the stop: its campaign arrives, a new consumer applies all of it
            await PublishRaw(broker, [(Topology.CampaignChangedExchange, CampaignWait.Campaign(late))]);
            using var host = await StartSync(database.Connection.ConnectionString, vhost.Rabbit, CampaignWait.Steps());
            try
            {
                await Eventually.Until(
                    async () => await Count(database.DataSource, "SELECT count(*) FROM contacts WHERE campaign_id = @late", new { late }) == 2000,
                    Deadline, "the whole flood applied after the restart");
                Assert.Equal(0, await vhost.MessagesReady(Topology.ErrorQueue(Topology.ContactChangesQueue)));
            }
            finally
            {
                await host.StopAsync();
            }
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    static async Task<long> Consumers(IsolatedVhost vhost, string queue)
    {
        var response = await vhost.Management.GetAsync($"api/queues/{Uri.EscapeDataString(vhost.Name)}/{queue}");
        if (!response.IsSuccessStatusCode)
        {
            return 0;
        }

        var json = await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<System.Text.Json.JsonElement>(response.Content);
        return json.TryGetProperty("consumers", out var consumers) ? consumers.GetInt64() : 0;
    }
}
