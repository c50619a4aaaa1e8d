using System.Diagnostics;
using Dapper;
using Npgsql;

namespace CampaignEvents.Infrastructure.Database;

/// <summary>
/// Drops replication slots once nobody streams from them: a slot nobody reads keeps the source's WAL
/// for ever. Used wherever a slot is throwaway (the demo, the benchmarks, the tests); a real
/// deployment keeps its slot, `run` resumes from it.
/// </summary>
public static class ReplicationSlots
{
    const string DropIdle = """
        SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
        WHERE (slot_name = @name OR (@prefix AND starts_with(slot_name, @name))) AND NOT active
        """;

    const string Left = """
        SELECT count(*) FROM pg_replication_slots
        WHERE slot_name = @name OR (@prefix AND starts_with(slot_name, @name))
        """;

    const string TerminateHolders = """
        SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots
        WHERE (slot_name = @name OR (@prefix AND starts_with(slot_name, @name))) AND active
        """;

    /// <summary>
    /// Drops the slot <paramref name="name"/> (with <paramref name="prefix"/>, every slot whose name
    /// starts with it), waiting up to <paramref name="deadline"/> for a stopped adapter's walsender to let
    /// go; after <paramref name="terminateAfter"/> such a walsender is a leftover and is ended.
    /// </summary>
    /// <returns>True when no such slot is left.</returns>
    public static async Task<bool> Drop(NpgsqlConnection connection, string name, bool prefix, TimeSpan deadline, TimeSpan? terminateAfter = null)
    {
        var clock = Stopwatch.StartNew();
        var terminated = false;
        while (true)
        {
            if (!terminated && terminateAfter is { } after && clock.Elapsed > after)
            {
                await connection.ExecuteAsync(TerminateHolders, new { name, prefix });
                terminated = true;
            }

            await connection.ExecuteAsync(DropIdle, new { name, prefix });
            if (await connection.ExecuteScalarAsync<long>(Left, new { name, prefix }) == 0)
            {
                return true;
            }

            if (clock.Elapsed > deadline)
            {
                return false;
            }

            await Task.Delay(200);
        }
    }
}
