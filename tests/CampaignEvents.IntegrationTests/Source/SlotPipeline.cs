using System.Globalization;
using System.Text.Json.Nodes;
using CampaignEvents.Cli.Hosting;
using CampaignEvents.IntegrationTests.Pipeline;
using CampaignEvents.TestSupport;
using CampaignEvents.TestSupport.Generators;
using CampaignEvents.TestSupport.Stack;
using Dapper;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace CampaignEvents.IntegrationTests.Source;

/// <summary>
/// Helpers of the slot-continuity and version-domain tests: the whole pipeline (source, sync,
/// reconcile) in this process against a <see cref="SourceWorld"/>, the CLI as a process with the
/// world's settings, and the local table compared with the source.
/// </summary>
static class SlotPipeline
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    /// <summary>Every role in one host, as <c>campaign-events run</c> hosts them.</summary>
    public static async Task<IHost> Start(SourceWorld world)
    {
        var settings = new Dictionary<string, string?>(world.Settings)
        {
            ["Reconciliation:Settle"] = "00:00:00.500",
            ["Reconciliation:Interval"] = "00:00:00",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        var host = await RoleHosts.Build(PipelineHost.AllRoles, settings);
        await host.StartAsync();
        return host;
    }

    /// <summary>The consumers (sync, reconcile) without the source adapter, which a test starts and stops on its own.</summary>
    public static async Task<IHost> StartConsumers(SourceWorld world)
    {
        var settings = new Dictionary<string, string?>(world.Settings)
        {
            ["Reconciliation:Settle"] = "00:00:00.500",
            ["Reconciliation:Interval"] = "00:00:00",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        var host = await RoleHosts.Build([Role.Sync, Role.Reconcile], settings);
        await host.StartAsync();
        return host;
    }

    public static async Task Stop(IHost host)
    {
        await host.StopAsync();
        host.Dispose();
    }

    /// <summary>
    /// The world's settings as environment variables of a <c>campaign-events</c> process, as the
    /// administrator: for the commands that are the administrator's (<c>rebase-versions</c>, <c>errors</c>).
    /// </summary>
    public static Dictionary<string, string?> Environment(SourceWorld world, params (string Key, string Value)[] extra) =>
        Environment(world.Settings, world, extra);

    /// <summary>The world's settings as environment variables of a <c>campaign-events</c> process run as <paramref name="job"/>.</summary>
    public static Dictionary<string, string?> Environment(SourceWorld world, Job job, params (string Key, string Value)[] extra) =>
        Environment(Identities.As(job, world.Settings), world, extra);

    static Dictionary<string, string?> Environment(IReadOnlyDictionary<string, string?> settings, SourceWorld world, (string Key, string Value)[] extra)
    {
        var environment = settings.ToDictionary(s => s.Key.Replace(":", "__", StringComparison.Ordinal), s => s.Value);
        environment["RabbitMq__ManagementPort"] = world.Vhost.Rabbit.ManagementPort.ToString(CultureInfo.InvariantCulture);
        environment["Observability__MetricsPort"] = "0";
        environment["Observability__HealthPort"] = "0";
        environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (key, value) in extra)
        {
            environment[key] = value;
        }

        return environment;
    }

    public static async Task<ContactRow[]> LocalContacts(SourceWorld world)
    {
        await using var connection = new NpgsqlConnection(world.LocalDb.ConnectionString);
        await connection.OpenAsync();
        var rows = await connection.QueryAsync<(Guid Campaign, string Phone, string Metadata)>("SELECT campaign_id, phone_number, metadata::text FROM contacts");
        return [.. rows.Select(r => new ContactRow(r.Campaign, r.Phone, JsonNode.Parse(r.Metadata)!.AsObject()))];
    }

    /// <summary>Waits until the local contacts equal the source's.</summary>
    public static Task LocalEqualsSource(SourceWorld world, string why) =>
        Eventually.Until(async () => Same(await world.SourceContacts(), await LocalContacts(world)), Deadline, why);

    public static bool Same(IEnumerable<ContactRow> expected, IEnumerable<ContactRow> actual)
    {
        try
        {
            return ContactAssert.SameContacts(expected, actual);
        }
        catch (Xunit.Sdk.XunitException)
        {
            return false;
        }
    }

    public static async Task<bool> SnapshotCompleted(SourceWorld world)
    {
        await using var local = new NpgsqlConnection(world.LocalDb.ConnectionString);
        await local.OpenAsync();
        return await local.ExecuteScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM source_adapter_state WHERE snapshot_completed_at IS NOT NULL)");
    }

    public static Task WaitForSnapshot(SourceWorld world) =>
        Eventually.Until(() => SnapshotCompleted(world), Deadline, "the adapter's snapshot completed");

    /// <summary>Seeds phones +14152000000, +14152000001, … with metadata {"n": i}.</summary>
    public static IEnumerable<ContactRow> Rows(Guid[] campaigns, int count) =>
        Enumerable.Range(0, count).Select(i => new ContactRow(campaigns[i % campaigns.Length], $"+1415{2000000 + i:D7}", new JsonObject { ["n"] = i }));

    /// <summary>Changes at the source while the adapter is away: deletes, updates and inserts.</summary>
    public static async Task ChangeWhileAway(SourceWorld world, Guid campaign)
    {
        await using var connection = await world.Source.OpenConnectionAsync();
        await connection.ExecuteAsync("DELETE FROM contacts WHERE phone_number IN ('+14152000000', '+14152000001', '+14152000002')");
        await connection.ExecuteAsync("UPDATE contacts SET metadata = '{\"updated\": true}' WHERE phone_number IN ('+14152000010', '+14152000011')");
        await connection.ExecuteAsync("INSERT INTO contacts (campaign_id, phone_number, metadata) VALUES (@campaign, '+14153000990', '{\"new\": 1}'), (@campaign, '+14153000991', '{\"new\": 2}')", new { campaign });
    }

    public static void OneLine(CliResult result, string expected)
    {
        Xunit.Assert.True(result.ExitCode == 1, result.ToString());
        var lines = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Xunit.Assert.True(lines.Length == 1, result.ToString());
        Xunit.Assert.StartsWith("error: ", lines[0], StringComparison.Ordinal);
        Xunit.Assert.Contains(expected, lines[0], StringComparison.Ordinal);
        Xunit.Assert.DoesNotContain("   at ", result.Output + result.Error, StringComparison.Ordinal);
        Xunit.Assert.DoesNotContain("Password", result.Output + result.Error, StringComparison.OrdinalIgnoreCase);
    }
}
