using System.Text.Json.Nodes;
using CampaignEvents.Cli.Commands;
using CampaignEvents.Cli.Hosting;
using CampaignEvents.Contracts.Reconciliation;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.IntegrationTests.Pipeline;
using CampaignEvents.TestSupport.Generators;
using CampaignEvents.TestSupport.Stack;
using CampaignEvents.Infrastructure.Database;
using Dapper;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit;

namespace CampaignEvents.IntegrationTests.Reconciliation;

/// <summary>
/// A local database, a source database shaped like the adapter's defaults, a vhost, and a host
/// with the given roles running against them (a class fixture), as the job of those roles
/// (<see cref="RoleHosts"/>). Helpers write and read both sides directly, as the administrator.
/// <see cref="Overrides"/> holds the administrator's settings; whatever runs the product lays a
/// job's identity over them.
/// </summary>
public class ReconciliationStack : IAsyncLifetime
{

    readonly IsolatedDatabase local = new();
    readonly IsolatedSourceDatabase source = new();
    readonly IsolatedVhost vhost = new();
    IHost? host;

    public IsolatedDatabase Local => local;

    public IsolatedSourceDatabase Source => source;

    public IsolatedVhost Vhost => vhost;

    public IHost Host => host ?? throw new InvalidOperationException("not started");

    protected virtual Role[] Roles => [Role.Source, Role.Reconcile];

    public Dictionary<string, string?> Overrides { get; private set; } = [];

    public async ValueTask InitializeAsync()
    {
        await local.InitializeAsync();
        await source.InitializeAsync();
        await vhost.InitializeAsync();
        await using (var connection = await source.DataSource.OpenConnectionAsync())
        {
            // the adapter's default source shape (its preflight checks it)
            await connection.ExecuteAsync(CampaignEvents.Source.Mapping.DefaultSourceSchema.Sql);
        }

        // the source admin's one-time step (database/roles/source.sql, with the test's publication):
        // the host runs as its job's logins (RoleHosts), the stack keeps the administrator's
        var slot = $"recon_{Guid.NewGuid():N}"[..20];
        await Identities.GrantSource(source.Connection, slot);
        Overrides = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Contacts"] = local.Connection.ConnectionString,
            ["ConnectionStrings:Source"] = source.Connection.ConnectionString,
            ["RabbitMq:Host"] = vhost.Rabbit.Host,
            ["RabbitMq:Port"] = vhost.Rabbit.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RabbitMq:ManagementPort"] = vhost.Rabbit.ManagementPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RabbitMq:VirtualHost"] = vhost.Rabbit.VirtualHost,
            ["RabbitMq:Username"] = vhost.Rabbit.Username,
            ["RabbitMq:Password"] = vhost.Rabbit.Password,
            ["Source:SlotName"] = slot,
            ["Source:PublicationName"] = slot,
            ["Reconciliation:Settle"] = "00:00:00.500",
            ["Reconciliation:SourceTimeout"] = "00:00:20",
            ["Reconciliation:RepairTimeout"] = "00:00:30",
            ["Reconciliation:Interval"] = "00:00:00",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        host = await RoleHosts.Build(Roles, Overrides);
        await host.StartAsync();

        // Rows written while the adapter takes its first snapshot are delivered twice (snapshot and
        // stream, docs/adr/0004); a late copy would bring back a row a test deletes locally to make
        // drift. The tests write only once the snapshot of the empty source is done.
        await using var state = await local.DataSource.OpenConnectionAsync();
        await CampaignEvents.TestSupport.Eventually.Until(
            async () => await state.ExecuteScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM source_adapter_state WHERE snapshot_completed_at IS NOT NULL)"),
            TimeSpan.FromSeconds(60),
            "the source adapter's first snapshot completed");

        // the guard: the host runs as its job (the union of its roles'), on the broker and on both databases
        await Identities.RequireJobUsersOnBroker(vhost.Management, vhost.Name);
        await Identities.RequireJobLoginsConnected(source.Connection, RoleGrants.Roles.Source);
    }

    public async ValueTask DisposeAsync()
    {
        if (host is not null)
        {
            await host.StopAsync();
            host.Dispose();
        }

        await vhost.DisposeAsync();
        await source.DisposeAsync();
        await local.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    /// <summary>A campaign on both sides (or only one).</summary>
    public async Task<Guid> CreateCampaign(bool atSource = true, bool locally = true)
    {
        var id = Guid.NewGuid();
        if (atSource)
        {
            await using var connection = await source.DataSource.OpenConnectionAsync();
            await connection.ExecuteAsync("INSERT INTO campaigns (id, name, type, status) VALUES (@id, 'test', 'voice', 'active')", new { id });
        }

        if (locally)
        {
            // the running adapter may have brought it over from the source already
            await using var connection = await local.DataSource.OpenConnectionAsync();
            await connection.ExecuteAsync("INSERT INTO campaigns (id, name, type, status) VALUES (@id, 'test', 'voice', 'active') ON CONFLICT (id) DO NOTHING", new { id });
        }

        return id;
    }

    /// <summary>Writes source rows as given (raw phone text).</summary>
    public async Task WriteSource(Guid campaign, IEnumerable<(string Phone, JsonObject Metadata)> rows)
    {
        var list = rows.ToArray();
        await using var connection = await source.DataSource.OpenConnectionAsync();
        await connection.ExecuteAsync(
            """
            INSERT INTO contacts (campaign_id, phone_number, metadata)
            SELECT @campaign, p, m::jsonb FROM unnest(@phones::text[], @metadata::text[]) AS u(p, m)
            """,
            new { campaign, phones = list.Select(r => r.Phone).ToArray(), metadata = list.Select(r => r.Metadata.ToJsonString()).ToArray() });
    }

    /// <summary>Waits until the pipeline (source adapter, sync consumer) has made the local rows of a campaign equal to these.</summary>
    public async Task WaitUntilSynced(Guid campaign, IEnumerable<(string Phone, JsonObject Metadata)> rows)
    {
        var expected = rows.Select(r => new ContactRow(campaign, r.Phone, r.Metadata)).ToArray();
        await CampaignEvents.TestSupport.Eventually.Until(
            async () =>
            {
                try
                {
                    return ContactAssert.SameContacts(expected, await LocalContacts(campaign));
                }
                catch (Xunit.Sdk.XunitException)
                {
                    return false;
                }
            },
            TimeSpan.FromSeconds(60),
            $"campaign {campaign} synced by the pipeline");
    }

    /// <summary>Writes local rows directly, as if the sync consumer had applied them at the given version.</summary>
    public async Task WriteLocal(Guid campaign, IEnumerable<(string Phone, JsonObject Metadata)> rows, long version = 1)
    {
        var list = rows.ToArray();
        await using var connection = await local.DataSource.OpenConnectionAsync();
        await connection.ExecuteAsync(
            """
            INSERT INTO contacts (campaign_id, phone_number, metadata, version)
            SELECT @campaign, p, m::jsonb, @version FROM unnest(@phones::text[], @metadata::text[]) AS u(p, m)
            """,
            new { campaign, version, phones = list.Select(r => r.Phone).ToArray(), metadata = list.Select(r => r.Metadata.ToJsonString()).ToArray() });
    }

    public async Task<ContactRow[]> LocalContacts(Guid campaign)
    {
        await using var connection = await local.DataSource.OpenConnectionAsync();
        var rows = await connection.QueryAsync<(string Phone, string Metadata)>(
            "SELECT phone_number, metadata::text FROM contacts WHERE campaign_id = @campaign", new { campaign });
        return [.. rows.Select(r => new ContactRow(campaign, r.Phone, JsonNode.Parse(r.Metadata)!.AsObject()))];
    }

    public async Task<long> Runs(Guid campaign)
    {
        await using var connection = await local.DataSource.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM reconciliation_runs WHERE campaign_id = @campaign", new { campaign });
    }

    /// <summary>Reconciles through the queue <c>reconciliation</c>, as the command does.</summary>
    public async Task<CampaignReconciled> Reconcile(Guid campaign, bool repair = false)
    {
        var client = Host.Services.GetRequiredService<IRequestClient<ReconcileCampaign>>();
        var response = await client.Ask<ReconcileCampaign, CampaignReconciled>(
            new ReconcileCampaign { CampaignId = campaign, Repair = repair }, TimeSpan.FromSeconds(90), TestContext.Current.CancellationToken);
        return response.Message;
    }

    /// <summary>Runs <c>campaign-events reconcile</c> against this stack, as the reconcile job's login and user.</summary>
    public async Task<(int ExitCode, string Output, string Error)> Command(Guid? campaign, bool all = false, bool repair = false, bool json = false, double timeoutSeconds = 20, Dictionary<string, string?>? overrides = null)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await ReconcileCommand.Run(
            new ReconcileCommand.ReconcileRequest(campaign, all, repair, json, TimeSpan.FromSeconds(timeoutSeconds)),
            Identities.As(Job.Reconcile, overrides ?? Overrides),
            output,
            error,
            terminal: false,
            TestContext.Current.CancellationToken);
        return (exit, output.ToString(), error.ToString());
    }
}

/// <summary>Source side and reconciliation, no sync consumer: local rows are written directly.</summary>
public sealed class SourceAndReconcileStack : ReconciliationStack;

/// <summary>Source side, sync consumer and reconciliation: a repair flows through the normal event path.</summary>
public sealed class RepairStack : ReconciliationStack
{
    protected override Role[] Roles => [Role.Source, Role.Sync, Role.Reconcile];
}
