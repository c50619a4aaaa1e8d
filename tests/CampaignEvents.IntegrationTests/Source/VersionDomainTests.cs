using CampaignEvents.TestSupport;
using CampaignEvents.TestSupport.Stack;
using Dapper;
using Npgsql;
using Xunit;

namespace CampaignEvents.IntegrationTests.Source;

/// <summary>
/// Issue 13: local versions come from one version domain (capture mode, source cluster and
/// timeline). A source that is another cluster, or a switch of capture mode, is refused in one
/// line; <c>campaign-events rebase-versions --all</c> re-bases the local versions and records the
/// new domain, after which the adapter's new snapshot and a repair make local equal to the source.
/// </summary>
public sealed class VersionDomainTests(IsolatedVhost vhost) : IClassFixture<IsolatedVhost>
{
    [Fact]
    public async Task A_source_of_another_cluster_is_refused_and_rebase_versions_lets_the_new_source_win()
    {
        await using var world = await SourceWorld.Create(vhost, "domain");
        var campaigns = await world.CreateCampaigns(2);
        await world.Seed(SlotPipeline.Rows(campaigns, 100));
        var consumers = await SlotPipeline.StartConsumers(world);
        try
        {
            await world.StartAdapter();
            await SlotPipeline.LocalEqualsSource(world, "the pipeline synced the seed");
            await world.StopAdapters();
            await Recovered(world, campaigns);
        }
        finally
        {
            await SlotPipeline.Stop(consumers);
        }
    }

    /// <summary>The source adapter is stopped, the consumers run: the recovery of README "Version domain".</summary>
    static async Task Recovered(SourceWorld world, Guid[] campaigns)
    {
        // the local rows were built from another cluster whose WAL positions were far ahead of this
        // source's (as after a restore from an older backup, or a replaced server): simulated by
        // the recorded identity and versions the new source's positions cannot reach
        await using (var local = new NpgsqlConnection(world.LocalDb.ConnectionString))
        {
            await local.OpenAsync();
            await local.ExecuteAsync("UPDATE source_version_domain SET system_identifier = system_identifier + 1");
            await local.ExecuteAsync("UPDATE contacts SET version = version + (1::bigint << 60)");
            await local.ExecuteAsync("UPDATE campaigns SET version = version + (1::bigint << 60)");
            await local.ExecuteAsync("INSERT INTO contact_tombstones (campaign_id, phone_number, version) VALUES (@campaign, '+14153000990', 1::bigint << 61)", new { campaign = campaigns[0] });

            // a row the old cluster held and the new one never had: only the repair can delete it
            await local.ExecuteAsync("INSERT INTO contacts (campaign_id, phone_number, metadata, version) VALUES (@campaign, '+14154000001', '{}', 1::bigint << 60)", new { campaign = campaigns[0] });
        }

        await SlotPipeline.ChangeWhileAway(world, campaigns[0]);

        var refused = await CliProcess.Run(["run", "--role", "source"], SlotPipeline.Environment(world, Job.Source));
        SlotPipeline.OneLine(refused, "version domain changed: the source database is another cluster than the one the local versions come from");
        Assert.Contains("run campaign-events rebase-versions --all", refused.Error, StringComparison.Ordinal);

        // the command refuses while a queue still holds a message of the old source (the management
        // API shows a drained queue within seconds): the sync consumer keeps draining meanwhile
        CliResult rebase = null!;
        await Eventually.Until(
            async () => (rebase = await CliProcess.Run(["rebase-versions", "--all"], SlotPipeline.Environment(world))).ExitCode == 0,
            SlotPipeline.Deadline,
            () => rebase.ToString());
        Assert.Contains("recorded version domain replication of system", rebase.Output, StringComparison.Ordinal);

        await world.StartAdapter();
        // the new snapshot wins over every re-based row (the tombstone no longer hides +14153000990);
        // the rows deleted at the source stay until the repair
        var expected = await world.SourceContacts();
        var keys = expected.Select(c => (c.CampaignId, c.PhoneNumber)).ToHashSet();
        await Eventually.Until(
            async () => SlotPipeline.Same(expected, (await SlotPipeline.LocalContacts(world)).Where(c => keys.Contains((c.CampaignId, c.PhoneNumber)))),
            SlotPipeline.Deadline,
            "the new snapshot applied over the re-based rows");

        var repair = await CliProcess.Run(["reconcile", "--all", "--repair", "--timeout", "20"], SlotPipeline.Environment(world, Job.Reconcile));
        Assert.True(repair.ExitCode == 0, repair.ToString());
        Assert.True(SlotPipeline.Same(await world.SourceContacts(), await SlotPipeline.LocalContacts(world)), "local equals the source after the repair");

        // and later changes of the new source keep winning
        await using (var connection = await world.Source.OpenConnectionAsync())
        {
            await connection.ExecuteAsync("UPDATE contacts SET metadata = '{\"after\": true}' WHERE phone_number = '+14152000020'");
        }

        await SlotPipeline.LocalEqualsSource(world, "a change after the rebase applied");
    }

    [Fact]
    public async Task A_switch_from_replication_to_polling_is_refused_in_one_line()
    {
        await using var world = await SourceWorld.Create(vhost, "domainmode");
        await world.StartAdapter();
        await SlotPipeline.WaitForSnapshot(world);
        await world.StopAdapters();

        var refused = await CliProcess.Run(["run", "--role", "source"], SlotPipeline.Environment(world, Job.Source, ("Source__Mode", "Polling")));

        SlotPipeline.OneLine(refused, "version domain changed: the local versions come from replication capture but Source__Mode is now polling");
    }

    [Fact]
    public async Task Rebase_versions_needs_a_campaign_or_all()
    {
        await using var world = await SourceWorld.Create(vhost, "domainargs");
        var result = await CliProcess.Run(["rebase-versions"], SlotPipeline.Environment(world));
        SlotPipeline.OneLine(result, "give either --campaign <id> (one or more) or --all");
    }
}
