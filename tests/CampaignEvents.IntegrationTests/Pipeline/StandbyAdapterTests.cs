using System.Diagnostics;
using CampaignEvents.IntegrationTests.FaultMatrix;
using CampaignEvents.TestSupport;
using Dapper;
using Npgsql;
using Xunit;

namespace CampaignEvents.IntegrationTests.Pipeline;

/// <summary>
/// Two <c>run --role source</c> processes on one slot: one captures, the other waits as a standby
/// and takes over when the active one is killed (issue "Scale out and stay up", part 4).
/// </summary>
public sealed class StandbyAdapterTests
{
    static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task A_standby_adapter_takes_over_when_the_active_one_is_killed_mid_stream_and_nothing_is_lost()
    {
        await using var world = await MatrixWorld.Create("standby", new MatrixSetup());
        var campaigns = await world.Seed();
        var active = world.Start("source");
        world.Start("sync");
        await Eventually.Until(() => SnapshotCompleted(world), Deadline, () => $"the snapshot completed; the roles wrote:\n{world.Log}");

        world.Start("source");
        await Eventually.Until(() => Task.FromResult(world.Log.Contains("source#2: ", StringComparison.Ordinal) && world.Log.Contains("Standby: another adapter captures", StringComparison.Ordinal)),
            Deadline, () => $"the second adapter waiting as a standby; the roles wrote:\n{world.Log}");

        using var stopChurn = new CancellationTokenSource();
        var churn = world.Churn(campaigns, stopChurn.Token);
        await Eventually.Until(() => Task.FromResult(world.Published > MatrixWorld.Contacts + 500), Deadline, "changes streaming through the active adapter");

        await MatrixWorld.Kill(active);
        var killed = Stopwatch.StartNew();
        await Eventually.Until(() => Task.FromResult(world.Log.Contains("Taking over replication slot", StringComparison.Ordinal)), TimeSpan.FromSeconds(30),
            () => $"the standby taking over; the roles wrote:\n{world.Log}");
        var published = world.Published;
        await Eventually.Until(() => Task.FromResult(world.Published > published + 200), TimeSpan.FromSeconds(30), "the standby streaming the changes that go on");
        var takeover = killed.Elapsed;

        // documented in the README: within Source__StandbyPollInterval (2 s) and a capture start
        Assert.True(takeover < TimeSpan.FromSeconds(15), $"the standby took {takeover.TotalSeconds:0.0} s to stream");

        await stopChurn.CancelAsync();
        await churn;
        await world.Converged(Deadline);
        await world.Verified();
    }

    static async Task<bool> SnapshotCompleted(MatrixWorld world)
    {
        await using var connection = new NpgsqlConnection(world.LocalDb.ConnectionString);
        await connection.OpenAsync();
        return await connection.ExecuteScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM source_adapter_state WHERE snapshot_completed_at IS NOT NULL)");
    }
}
