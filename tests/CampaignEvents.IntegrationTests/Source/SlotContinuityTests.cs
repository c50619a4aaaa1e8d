using CampaignEvents.TestSupport;
using CampaignEvents.TestSupport.Stack;
using Dapper;
using Npgsql;
using Xunit;

namespace CampaignEvents.IntegrationTests.Source;

/// <summary>
/// Issue 13: a replication slot dropped after the snapshot, or invalidated by
/// max_slot_wal_keep_size, has lost the changes made meanwhile. The adapter refuses in one line
/// with the fix; Source:RecreateSlot takes a new snapshot, and reconcile --all --repair removes
/// the rows deleted while the slot was gone.
/// </summary>
public sealed class SlotContinuityTests(IsolatedVhost vhost) : IClassFixture<IsolatedVhost>
{
    [Fact]
    public async Task A_dropped_slot_is_refused_in_one_line_and_RecreateSlot_then_reconcile_repair_make_local_equal_to_the_source()
    {
        await using var world = await SourceWorld.Create(vhost, "slotdropped");
        var campaigns = await world.CreateCampaigns(2);
        await world.Seed(SlotPipeline.Rows(campaigns, 100));
        var pipeline = await SlotPipeline.Start(world);
        await SlotPipeline.LocalEqualsSource(world, "the pipeline synced the seed");
        await SlotPipeline.Stop(pipeline);

        await world.DropSlots();
        await SlotPipeline.ChangeWhileAway(world, campaigns[0]);

        var refused = await CliProcess.Run(["run", "--role", "source"], SlotPipeline.Environment(world, Job.Source));
        SlotPipeline.OneLine(refused, $"replication slot {world.Slot} was dropped on the source after the adapter's snapshot completed; changes made while it was gone are lost to it. To take a new snapshot, set Source__RecreateSlot=true and start again, then run campaign-events reconcile --all --repair to remove rows deleted meanwhile");
        await using (var source = new NpgsqlConnection(world.SourceDb.ConnectionString))
        {
            await source.OpenAsync();
            Assert.False(await source.ExecuteScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = @slot)", new { slot = world.Slot }), "the refusal created no slot");
        }

        world.Settings["Source:RecreateSlot"] = "true";
        pipeline = await SlotPipeline.Start(world);
        try
        {
            // the new snapshot brings the updates and inserts, but cannot see the deletes
            var expected = await world.SourceContacts();
            HashSet<string> deleted = ["+14152000000", "+14152000001", "+14152000002"];
            await Eventually.Until(
                async () =>
                {
                    var local = await SlotPipeline.LocalContacts(world);
                    return SlotPipeline.Same(expected, local.Where(c => !deleted.Contains(c.PhoneNumber)))
                        && local.Count(c => deleted.Contains(c.PhoneNumber)) == 3;
                },
                SlotPipeline.Deadline,
                "the new snapshot applied, the rows deleted meanwhile still local");

            var repair = await CliProcess.Run(["reconcile", "--all", "--repair", "--timeout", "20"], SlotPipeline.Environment(world, Job.Reconcile));
            Assert.True(repair.ExitCode == 0, repair.ToString());
            Assert.True(SlotPipeline.Same(await world.SourceContacts(), await SlotPipeline.LocalContacts(world)), "local equals the source after the repair");
        }
        finally
        {
            await SlotPipeline.Stop(pipeline);
        }
    }

    [Fact]
    public async Task A_slot_invalidated_by_max_slot_wal_keep_size_is_refused_in_one_line()
    {
        await using var server = await ThrowawayPostgres.Start("logical");
        await using var world = await SourceWorld.Create(vhost, "slotlost");
        await server.CreateDatabase("source");
        var source = server.Connection("source");
        await using (var connection = new NpgsqlConnection(source.ConnectionString))
        {
            await connection.OpenAsync();
            await connection.ExecuteAsync(CampaignEvents.Source.Mapping.DefaultSourceSchema.Sql);
            await connection.ExecuteAsync("ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'");
            await connection.ExecuteAsync("SELECT pg_reload_conf()");
            await connection.ExecuteAsync("INSERT INTO campaigns (name, type, status) VALUES ('lost', 'voice', 'active')");
        }

        await world.UseSource(source);
        await world.StartAdapter();
        await SlotPipeline.WaitForSnapshot(world);
        await world.StopAdapters();

        // more than a WAL segment written while the adapter is away, then a checkpoint removes it
        await using (var connection = new NpgsqlConnection(source.ConnectionString))
        {
            await connection.OpenAsync();
            await Eventually.Until(
                async () =>
                {
                    await connection.ExecuteAsync("CREATE TABLE IF NOT EXISTS filler (g int, f text); INSERT INTO filler SELECT g, repeat('x', 500) FROM generate_series(1, 20000) g");
                    await connection.ExecuteAsync("SELECT pg_switch_wal()");
                    await connection.ExecuteAsync("CHECKPOINT", commandType: System.Data.CommandType.Text);
                    return await connection.ExecuteScalarAsync<string?>("SELECT wal_status FROM pg_replication_slots WHERE slot_name = @slot", new { slot = world.Slot }) == "lost";
                },
                SlotPipeline.Deadline,
                "the slot invalidated (wal_status lost)");
        }

        var refused = await CliProcess.Run(["run", "--role", "source"], SlotPipeline.Environment(world, Job.Source));
        SlotPipeline.OneLine(refused, $"replication slot {world.Slot} was invalidated on the source (wal_status lost: it fell behind by more than max_slot_wal_keep_size); changes made while it was gone are lost to it. To take a new snapshot, set Source__RecreateSlot=true and start again");

        var status = await CliProcess.Run(["status", "--json"], SlotPipeline.Environment(world, Job.Status));
        Assert.Contains("\"walStatus\": \"lost\"", status.Output, StringComparison.Ordinal);

        // the setting re-creates it: a new slot that streams, and a new snapshot
        world.Settings["Source:RecreateSlot"] = "true";
        await world.StartAdapter();
        await SlotPipeline.WaitForSnapshot(world);
        await using (var connection = new NpgsqlConnection(source.ConnectionString))
        {
            await connection.OpenAsync();
            await Eventually.Until(
                async () => await connection.ExecuteScalarAsync<string?>("SELECT wal_status FROM pg_replication_slots WHERE slot_name = @slot AND active", new { slot = world.Slot }) is "reserved" or "extended",
                SlotPipeline.Deadline,
                "the re-created slot streams");
        }

        await world.StopAdapters();
    }
}
