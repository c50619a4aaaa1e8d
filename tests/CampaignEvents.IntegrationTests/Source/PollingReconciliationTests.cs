using System.Text.Json.Nodes;
using CampaignEvents.Cli.Hosting;
using CampaignEvents.Contracts.Reconciliation;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.IntegrationTests.Pipeline;
using CampaignEvents.TestSupport.Generators;
using CampaignEvents.TestSupport.Stack;
using Dapper;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Xunit;

namespace CampaignEvents.IntegrationTests.Source;

/// <summary>
/// Reconciliation of a source captured by polling (docs/adr/0005, 0006): polled versions are
/// timestamps in microseconds, so the source side's read version must be one too, or every
/// differing polled key looks newer than the source read ("in flight") and is never reported.
/// A key changed locally behind the pipeline's back and a row deleted at the source (polling does
/// not see deletes) are exactly the drift; the repair converges, and a later change at the source
/// still wins over the repaired rows. Both kinds of polling column: a timestamp (microseconds) and
/// an integer version (whose polling, until then, failed with "ORDER BY ... is ambiguous").
/// </summary>
public sealed class PollingReconciliationTests(IsolatedVhost vhost) : IClassFixture<IsolatedVhost>
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    /// <summary>An integer version column: every insert and update takes the next value of a sequence.</summary>
    const string RowVersion = """
        CREATE SEQUENCE row_versions;
        CREATE FUNCTION next_row_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN NEW.row_version := nextval('row_versions'); RETURN NEW; END $$;
        ALTER TABLE campaigns ADD COLUMN row_version bigint;
        ALTER TABLE contacts ADD COLUMN row_version bigint;
        CREATE TRIGGER campaigns_row_version BEFORE INSERT OR UPDATE ON campaigns FOR EACH ROW EXECUTE FUNCTION next_row_version();
        CREATE TRIGGER contacts_row_version BEFORE INSERT OR UPDATE ON contacts FOR EACH ROW EXECUTE FUNCTION next_row_version();
        """;

    [Theory]
    [InlineData("updated_at")]
    [InlineData("row_version")]
    public async Task Polled_drift_is_reported_exactly_repaired_and_later_source_changes_still_win(string pollingColumn)
    {
        await using var world = await SourceWorld.Create(vhost, $"pollrec{pollingColumn[..3]}");
        world.Settings["Source:Mode"] = "Polling";
        world.Settings["Source:PollingColumn"] = pollingColumn;
        world.Settings["Source:PollInterval"] = "00:00:00.100";
        // not zero: the read version must leave room for rows stamped within the lag
        world.Settings["Source:PollingLag"] = "00:00:00.300";
        world.Settings["Reconciliation:Settle"] = "00:00:00.500";
        if (pollingColumn == "row_version")
        {
            await using var connection = await world.Source.OpenConnectionAsync();
            await connection.ExecuteAsync(RowVersion);
        }

        var campaign = (await world.CreateCampaigns(1))[0];
        await world.Seed(Enumerable.Range(0, 200).Select(i => new ContactRow(campaign, $"+1415{6000000 + i:D7}", new JsonObject { ["n"] = i })));

        NpgsqlConnection.ClearAllPools();
        using var host = await RoleHosts.Build(PipelineHost.AllRoles, world.Settings);
        await host.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            await world.LocalEqualsSource(Deadline);
            var consistent = await Reconcile(host, campaign, repair: false);
            Assert.True(consistent.Outcome == ReconciliationOutcomes.Consistent, Describe(consistent));

            // one key changed locally behind the pipeline's back, one row deleted at the source (not polled)
            await using (var local = new NpgsqlConnection(world.LocalDb.ConnectionString))
            {
                await local.ExecuteAsync("UPDATE contacts SET metadata = '{\"n\": -1}' WHERE phone_number = '+14156000042'");
            }

            await using (var source = await world.Source.OpenConnectionAsync())
            {
                await source.ExecuteAsync("DELETE FROM contacts WHERE phone_number = '+14156000077'");
            }

            var drift = await Reconcile(host, campaign, repair: false);
            Assert.True(drift.Outcome == ReconciliationOutcomes.Drift, Describe(drift));
            Assert.Equal(
                [("+14156000042", DriftKinds.Different), ("+14156000077", DriftKinds.ExtraLocally)],
                drift.Drift.Select(d => (d.PhoneNumber, d.Kind)).OrderBy(d => d.PhoneNumber, StringComparer.Ordinal).ToArray());

            var repaired = await Reconcile(host, campaign, repair: true);
            Assert.True(repaired.Outcome == ReconciliationOutcomes.Repaired && repaired.Converged == true, Describe(repaired));
            Assert.Equal(["+14156000042", "+14156000077"], repaired.Repaired.Select(d => d.PhoneNumber).Order(StringComparer.Ordinal).ToArray());
            await world.LocalEqualsSource(Deadline);

            // the repaired key is not stuck behind the repair's version: the next polled change wins
            await using (var source = await world.Source.OpenConnectionAsync())
            {
                await source.ExecuteAsync("UPDATE contacts SET metadata = '{\"n\": 4242}' WHERE phone_number = '+14156000042'");
                await source.ExecuteAsync("INSERT INTO contacts (campaign_id, phone_number, metadata) VALUES (@campaign, '+14156000077', '{\"back\": true}')", new { campaign });
            }

            await world.LocalEqualsSource(Deadline);
            var after = await Reconcile(host, campaign, repair: false);
            Assert.True(after.Outcome == ReconciliationOutcomes.Consistent, Describe(after));
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    static async Task<CampaignReconciled> Reconcile(IHost host, Guid campaign, bool repair)
    {
        var client = host.Services.GetRequiredService<IRequestClient<ReconcileCampaign>>();
        var response = await client.Ask<ReconcileCampaign, CampaignReconciled>(
            new ReconcileCampaign { CampaignId = campaign, Repair = repair }, TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        return response.Message;
    }

    static string Describe(CampaignReconciled report) =>
        $"{report.Outcome} {report.Error}: {report.Drift.Count} drifted, converged {report.Converged}, {report.SettledInFlight} settled in flight, {report.StillChanging} still changing, {report.SourceContacts} at source, {report.LocalContacts} locally; " +
        string.Join(" | ", report.Drift.Take(3).Select(d => $"{d.PhoneNumber} {d.Kind} v{d.LocalVersion}/{d.SourceVersion} source {d.SourceMetadata} local {d.LocalMetadata}"));
}
