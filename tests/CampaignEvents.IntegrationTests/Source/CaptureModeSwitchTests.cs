using CampaignEvents.TestSupport;
using CampaignEvents.TestSupport.Stack;
using Dapper;
using Npgsql;
using Xunit;

namespace CampaignEvents.IntegrationTests.Source;

/// <summary>
/// README "Version domain": a switch of <c>Source__Mode</c> goes through <c>rebase-versions --all</c>.
/// A key changed under replication, then under polling, then under replication again must take
/// each newest change (never stuck behind a version of the other domain), and reconciliation finds
/// and repairs a drifted key in each mode (its read version follows the mode, docs/adr/0006).
/// </summary>
public sealed class CaptureModeSwitchTests(IsolatedVhost vhost) : IClassFixture<IsolatedVhost>
{
    const string Changed = "+14152000007";
    const string Drifted = "+14152000011";

    [Fact]
    public async Task A_key_changed_under_each_mode_in_turn_takes_the_newest_change_and_drift_is_repaired_in_each_mode()
    {
        await using var world = await SourceWorld.Create(vhost, "modeswitch");
        world.Settings["Source:PollInterval"] = "00:00:00.100";
        world.Settings["Source:PollingLag"] = "00:00:00";
        var campaigns = await world.CreateCampaigns(1);
        await world.Seed(SlotPipeline.Rows(campaigns, 50));
        var consumers = await SlotPipeline.StartConsumers(world);
        try
        {
            await world.StartAdapter();
            await SlotPipeline.LocalEqualsSource(world, "replication synced the seed");
            await ChangeAtSource(world, "replication");
            await SlotPipeline.LocalEqualsSource(world, "the change under replication applied");
            await DriftIsReportedAndRepaired(world, "replication");

            await SwitchTo(world, "Polling");
            await ChangeAtSource(world, "polling");
            await SlotPipeline.LocalEqualsSource(world, "the change under polling won over the replicated one");
            await DriftIsReportedAndRepaired(world, "polling");

            await SwitchTo(world, "Replication");
            await ChangeAtSource(world, "replication again");
            await SlotPipeline.LocalEqualsSource(world, "the change under replication won over the polled one");
            await DriftIsReportedAndRepaired(world, "replication again");
        }
        finally
        {
            await world.StopAdapters();
            await SlotPipeline.Stop(consumers);
        }
    }

    static async Task ChangeAtSource(SourceWorld world, string mode)
    {
        await using var connection = await world.Source.OpenConnectionAsync();
        await connection.ExecuteAsync("UPDATE contacts SET metadata = jsonb_build_object('mode', @mode) WHERE phone_number = @phone", new { mode, phone = Changed });
    }

    /// <summary>The README's recovery: adapter stopped, queues drained, <c>rebase-versions --all</c> under the new mode, adapter started.</summary>
    static async Task SwitchTo(SourceWorld world, string mode)
    {
        await world.StopAdapters();
        CliResult rebase = null!;
        await Eventually.Until(
            async () => (rebase = await CliProcess.Run(["rebase-versions", "--all"], SlotPipeline.Environment(world, ("Source__Mode", mode)))).ExitCode == 0,
            SlotPipeline.Deadline,
            () => rebase.ToString());
        world.Settings["Source:Mode"] = mode;
        await world.StartAdapter();
    }

    /// <summary>A key changed locally behind the pipeline's back: reported exactly, then repaired.</summary>
    static async Task DriftIsReportedAndRepaired(SourceWorld world, string mode)
    {
        await using (var local = new NpgsqlConnection(world.LocalDb.ConnectionString))
        {
            await local.ExecuteAsync("UPDATE contacts SET metadata = jsonb_build_object('local', @mode) WHERE phone_number = @phone", new { mode, phone = Drifted });
        }

        var found = await CliProcess.Run(["reconcile", "--all", "--timeout", "20"], SlotPipeline.Environment(world, Job.Reconcile));
        Assert.True(found.ExitCode == 2, $"{mode}: {found}");
        Assert.Contains(Drifted, found.Output, StringComparison.Ordinal);

        var repaired = await CliProcess.Run(["reconcile", "--all", "--repair", "--timeout", "20"], SlotPipeline.Environment(world, Job.Reconcile));
        Assert.True(repaired.ExitCode == 0, $"{mode}: {repaired}");
        Assert.True(SlotPipeline.Same(await world.SourceContacts(), await SlotPipeline.LocalContacts(world)), $"{mode}: local equals the source after the repair");
    }
}
