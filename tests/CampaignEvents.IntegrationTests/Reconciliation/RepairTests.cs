using System.Text.Json.Nodes;
using CampaignEvents.Contracts.Reconciliation;
using CampaignEvents.TestSupport.Generators;
using Dapper;
using FsCheck.Fluent;
using Xunit;

namespace CampaignEvents.IntegrationTests.Reconciliation;

/// <summary>
/// A campaign synced by the real pipeline (source adapter, sync consumer), drift injected locally,
/// then <c>reconcile --repair</c>: the source side re-publishes the drifted keys as a
/// <c>ContactChangeBatch</c>, the sync consumer applies it, and the follow-up check confirms
/// that local equals remote.
/// </summary>
public sealed class RepairTests(RepairStack stack) : IClassFixture<RepairStack>
{
    [Fact]
    public async Task Reconcile_with_repair_fixes_deleted_changed_added_and_moved_rows_and_exits_0_with_equal_tables()
    {
        var a = await stack.CreateCampaign();
        var b = await stack.CreateCampaign();
        var phones = ContactGenerators.E164.Sample(600, 21).Distinct().ToArray();
        var rowsA = phones.Take(200).Select((p, i) => (p, new JsonObject { ["i"] = i, ["name"] = "Zoë" })).ToArray();
        var rowsB = phones.Skip(200).Take(40).Select((p, i) => (p, new JsonObject { ["j"] = i })).ToArray();
        var extra = phones.Skip(300).Take(3).ToArray();
        await stack.WriteSource(a, rowsA);
        await stack.WriteSource(b, rowsB);
        await stack.WaitUntilSynced(a, rowsA);
        await stack.WaitUntilSynced(b, rowsB);
        await using (var connection = await stack.Local.DataSource.OpenConnectionAsync())
        {
            await connection.ExecuteAsync("DELETE FROM contacts WHERE campaign_id = @a AND phone_number = ANY(@p)", new { a, p = new[] { rowsA[1].p, rowsA[2].p } });
            await connection.ExecuteAsync("UPDATE contacts SET metadata = '{\"changed\": true}' WHERE campaign_id = @a AND phone_number = ANY(@p)", new { a, p = new[] { rowsA[3].p, rowsA[4].p } });
            await connection.ExecuteAsync("INSERT INTO contacts (campaign_id, phone_number, metadata) SELECT @a, p, '{}' FROM unnest(@extra::text[]) AS p", new { a, extra });
            await connection.ExecuteAsync("UPDATE contacts SET campaign_id = @b WHERE campaign_id = @a AND phone_number = @p", new { a, b, p = rowsA[5].p });
        }

        var (before, _, _) = await stack.Command(null, all: true);
        Assert.Equal(2, before);

        var (exit, output, error) = await stack.Command(null, all: true, repair: true);

        Assert.True(exit == 0, $"exit {exit}: {error}\n{output}");
        Assert.True(output.Contains($"campaign {a}: repaired", StringComparison.Ordinal), output);
        Assert.True(output.Contains("repaired 8 keys, converged", StringComparison.Ordinal), output);
        Assert.True(output.Contains($"campaign {b}: repaired", StringComparison.Ordinal), output);
        Assert.True(ContactAssert.SameContacts(
            rowsA.Select(r => new ContactRow(a, r.p, r.Item2)),
            await stack.LocalContacts(a)));
        Assert.True(ContactAssert.SameContacts(
            rowsB.Select(r => new ContactRow(b, r.p, r.Item2)),
            await stack.LocalContacts(b)));

        var (after, _, afterError) = await stack.Command(null, all: true);
        Assert.True(after == 0, afterError);
        await using var check = await stack.Local.DataSource.OpenConnectionAsync();
        Assert.Equal(1, await check.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM reconciliation_runs WHERE campaign_id = @a AND outcome = 'repaired' AND converged AND repaired_keys = 8", new { a }));
    }

    [Fact]
    public async Task A_repair_with_nothing_to_repair_exits_0_and_publishes_nothing()
    {
        var campaign = await stack.CreateCampaign();
        var rows = ContactGenerators.E164.Sample(30, 22).Distinct().Select(p => (p, new JsonObject())).ToArray();
        await stack.WriteSource(campaign, rows);
        await stack.WaitUntilSynced(campaign, rows);

        var report = await stack.Reconcile(campaign, repair: true);

        Assert.Equal(ReconciliationOutcomes.Consistent, report.Outcome);
        Assert.Empty(report.Repaired);
        Assert.Null(report.Converged);
    }
}
