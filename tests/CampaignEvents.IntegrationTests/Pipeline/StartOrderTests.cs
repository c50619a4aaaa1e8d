using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using CampaignEvents.Infrastructure.Database;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.Sync.Configuration;
using CampaignEvents.IntegrationTests.Source;
using CampaignEvents.TestSupport;
using CampaignEvents.TestSupport.Generators;
using CampaignEvents.TestSupport.Stack;
using Dapper;
using Npgsql;
using Xunit;

namespace CampaignEvents.IntegrationTests.Pipeline;

/// <summary>
/// Roles as operators deploy them: separate <c>campaign-events run --role …</c> processes, each
/// with its own database logins and broker user (docs/adr/0015), started in any order on a fresh
/// vhost where the deployment declared the topology (migrate --topology). Whatever starts first, and
/// whatever an operator deletes under a running adapter, nothing the source holds is lost (issue:
/// "Nothing lost, whatever starts first", item 1).
/// </summary>
public sealed class StartOrderTests(IsolatedVhost vhost) : IClassFixture<IsolatedVhost>
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task When_the_source_role_runs_alone_before_the_sync_role_starts_the_local_contacts_end_equal_to_the_source()
    {
        await using var roles = await SeparateRoles.Create(vhost, "order");
        var campaigns = await roles.World.CreateCampaigns(3);
        await roles.World.Seed(Enumerable.Range(0, 5_000).Select(i => new ContactRow(campaigns[i % 3], $"+1415{3000000 + i:D7}", new JsonObject { ["n"] = i })));

        roles.Start("source");
        await Eventually.Until(roles.SnapshotCompleted, Deadline, () => $"the adapter's snapshot completed; it wrote:\n{roles.Output}");

        // streamed changes while no sync role has ever run, and the adapter confirms them
        await Churn(roles.World.Source, campaigns);
        await roles.SlotPassedCurrentWal(Deadline);

        roles.Start("sync");
        await roles.LocalEqualsSource(Deadline);
        Assert.Equal(0, await vhost.MessagesReady(Topology.ErrorQueue(Topology.ContactChangesQueue)));

        // the guard: each role process connected as its own job, none as the administrator
        var connections = await Identities.RequireJobUsersOnBroker(vhost.Management, vhost.Name, expected: 2);
        Assert.Contains(connections, c => c.User == Identities.BrokerUser(Job.Source));
        Assert.Contains(connections, c => c.User == Identities.BrokerUser(Job.Sync));
        await Identities.RequireJobLoginsConnected(roles.World.SourceDb, RoleGrants.Roles.Source);
        await Identities.RequireJobLoginsConnected(roles.World.LocalDb, RoleGrants.Roles.Adapter, RoleGrants.Roles.Sync);
    }

    [Fact]
    public async Task When_contact_changes_is_deleted_under_a_running_adapter_nothing_is_confirmed_into_the_void()
    {
        await using var roles = await SeparateRoles.Create(vhost, "deleted");
        var campaigns = await roles.World.CreateCampaigns(2);
        await roles.World.Seed(Enumerable.Range(0, 2_000).Select(i => new ContactRow(campaigns[i % 2], $"+1415{4000000 + i:D7}", new JsonObject { ["n"] = i })));
        roles.Start("source");
        var sync = roles.Start("sync");
        await roles.LocalEqualsSource(Deadline);

        // the sync role stops, and an operator deletes its queue while the adapter goes on streaming
        await roles.Stop(sync);
        (await vhost.Management.DeleteAsync($"api/queues/{Uri.EscapeDataString(vhost.Name)}/{Topology.ContactChangesQueue}")).EnsureSuccessStatusCode();
        await Churn(roles.World.Source, campaigns);

        // the adapter must not count what no queue received; it says so in one line. Its own broker
        // user may not declare the sync role's queue (docs/adr/0015): it holds until the queue is back
        await Eventually.Until(() => Task.FromResult(roles.Output.Contains("no queue is bound", StringComparison.Ordinal)), Deadline, () => $"the adapter said no queue is bound; the roles wrote:\n{roles.Output}");
        Assert.Contains(Topology.ContactChangeBatchExchange, roles.Output, StringComparison.Ordinal);

        roles.Start("sync");
        await roles.LocalEqualsSource(Deadline);
        await roles.SlotPassedCurrentWal(Deadline);
    }

    /// <summary>Inserts, updates, deletes and a move to another campaign, each in its own transaction.</summary>
    static async Task Churn(NpgsqlDataSource source, Guid[] campaigns)
    {
        await using var connection = await source.OpenConnectionAsync();
        await connection.ExecuteAsync("INSERT INTO contacts (campaign_id, phone_number, metadata) SELECT @c, '+1415' || (5000000 + g)::text, jsonb_build_object('late', g) FROM generate_series(1, 200) g", new { c = campaigns[0] });
        await connection.ExecuteAsync("UPDATE contacts SET metadata = metadata || '{\"updated\": true}' WHERE (metadata->>'n')::int % 7 = 0");
        await connection.ExecuteAsync("DELETE FROM contacts WHERE (metadata->>'n')::int % 11 = 0");
        await connection.ExecuteAsync("UPDATE contacts SET campaign_id = @to WHERE (metadata->>'n')::int % 13 = 1", new { to = campaigns[^1] });
    }
}

/// <summary>
/// A source world whose roles run as separate processes on the class's vhost. The world's event
/// oracle lives on a vhost of its own: its queue must not make the adapter's publishes routable here.
/// </summary>
sealed class SeparateRoles : IAsyncDisposable
{
    readonly IsolatedVhost oracleVhost;
    readonly List<Process> processes = [];
    readonly StringBuilder output = new();

    SeparateRoles(SourceWorld world, IsolatedVhost oracleVhost)
    {
        World = world;
        this.oracleVhost = oracleVhost;
    }

    public SourceWorld World { get; }

    public string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    /// <summary>
    /// A world on <paramref name="vhost"/> where the deployment's steps are done, as the
    /// administrator: the logins' grants (local.sql with the migrations, source.sql by
    /// <see cref="SourceWorld"/>), the broker users' permissions (<see cref="IsolatedVhost"/>) and the
    /// whole topology (<c>migrate --topology</c>).
    /// </summary>
    public static async Task<SeparateRoles> Create(IsolatedVhost vhost, string purpose)
    {
        var oracleVhost = new IsolatedVhost();
        await oracleVhost.InitializeAsync();
        var world = await SourceWorld.Create(vhost, purpose, oracleVhost.Rabbit);
        world.Settings["RabbitMq:VirtualHost"] = vhost.Name;
        await new BrokerTopology(vhost.Rabbit, new SyncOptions().CampaignWaits).Declare(CancellationToken.None);
        return new SeparateRoles(world, oracleVhost);
    }

    /// <summary>Starts <c>campaign-events run --role <paramref name="role"/></c> with the world's settings and the role's own identity.</summary>
    public Process Start(string role)
    {
        var job = role switch { "source" => Job.Source, "sync" => Job.Sync, "reconcile" => Job.Reconcile, _ => Job.Pipeline };
        var environment = Identities.As(job, World.Settings).ToDictionary(s => s.Key.Replace(":", "__", StringComparison.Ordinal), s => s.Value);

        environment["Logging__LogLevel__Default"] = "Warning";
        environment["Observability__MetricsPort"] = "0";
        environment["Observability__HealthPort"] = "0";
        var process = Process.Start(CliProcess.StartInfo(["run", "--role", role], environment))!;
        process.OutputDataReceived += (_, e) => Write(role, e.Data);
        process.ErrorDataReceived += (_, e) => Write(role, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        processes.Add(process);
        return process;
    }

    void Write(string role, string? line)
    {
        if (line is not null)
        {
            lock (output)
            {
                output.Append(role).Append(": ").AppendLine(line);
            }
        }
    }

    /// <summary>SIGTERM, then waits for the process to end.</summary>
    public async Task Stop(Process process)
    {
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(patience.Token);
    }

    public async Task<bool> SnapshotCompleted()
    {
        await using var local = new NpgsqlConnection(World.LocalDb.ConnectionString);
        await local.OpenAsync();
        return await local.ExecuteScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM source_adapter_state WHERE snapshot_completed_at IS NOT NULL)");
    }

    /// <summary>Waits until the slot's confirmed position passed the source's WAL position of now: everything written so far was confirmed.</summary>
    public async Task SlotPassedCurrentWal(TimeSpan deadline)
    {
        await using var source = await World.Source.OpenConnectionAsync();
        var now = await source.ExecuteScalarAsync<string>("SELECT pg_current_wal_lsn()::text");
        await Eventually.Until(
            async () => await source.ExecuteScalarAsync<bool>(
                "SELECT coalesce(confirmed_flush_lsn >= @now::pg_lsn, false) FROM pg_replication_slots WHERE slot_name = @slot", new { now, slot = World.Slot }),
            deadline,
            () => $"slot {World.Slot} confirmed past {now}; the roles wrote:\n{Output}");
    }

    public Task LocalEqualsSource(TimeSpan deadline) => World.LocalEqualsSource(deadline, context: () => $"\nthe roles wrote:\n{Output}");

    public async ValueTask DisposeAsync()
    {
        foreach (var process in processes.Where(p => !p.HasExited))
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        try
        {
            await World.DisposeAsync();
        }
        finally
        {
            await oracleVhost.DisposeAsync();
        }
    }
}
