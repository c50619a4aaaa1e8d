using CampaignEvents.Infrastructure.Configuration;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NpgsqlTypes;

namespace CampaignEvents.Source.State;

/// <summary>Polling positions reached per table (text forms of the polling column and the row id).</summary>
internal sealed record PollingPositions(string? CampaignsPosition, string? CampaignsLastId, string? ContactsPosition, string? ContactsLastId);

/// <summary>
/// What the adapter remembers in the local database (migration 003): whether a slot's initial
/// snapshot was completed, and the polling positions. Local, so a fresh local database gets a new snapshot.
/// </summary>
internal sealed class AdapterState([FromKeyedServices(DatabaseSettings.Contacts)] NpgsqlDataSource local)
{
    const string SelectSnapshot = """
        SELECT snapshot_lsn::text FROM source_adapter_state
        WHERE capture_key = @key AND snapshot_completed_at IS NOT NULL
        """;

    const string ForgetSnapshot = """
        UPDATE source_adapter_state SET snapshot_completed_at = NULL, snapshot_lsn = NULL, updated_at = now()
        WHERE capture_key = @key
        """;

    const string CompleteSnapshot = """
        INSERT INTO source_adapter_state (capture_key, snapshot_lsn, snapshot_completed_at)
        VALUES (@key, @lsn::pg_lsn, now())
        ON CONFLICT (capture_key) DO UPDATE
        SET snapshot_lsn = excluded.snapshot_lsn, snapshot_completed_at = excluded.snapshot_completed_at, updated_at = now()
        """;

    const string SelectPolling = """
        SELECT campaigns_position AS "CampaignsPosition", campaigns_last_id AS "CampaignsLastId",
               contacts_position AS "ContactsPosition", contacts_last_id AS "ContactsLastId"
        FROM source_adapter_state WHERE capture_key = @key
        """;

    const string SavePolling = """
        INSERT INTO source_adapter_state (capture_key, campaigns_position, campaigns_last_id, contacts_position, contacts_last_id)
        VALUES (@key, @CampaignsPosition, @CampaignsLastId, @ContactsPosition, @ContactsLastId)
        ON CONFLICT (capture_key) DO UPDATE
        SET campaigns_position = excluded.campaigns_position, campaigns_last_id = excluded.campaigns_last_id,
            contacts_position = excluded.contacts_position, contacts_last_id = excluded.contacts_last_id, updated_at = now()
        """;

    public async Task<ulong?> CompletedSnapshot(string key, CancellationToken cancel)
    {
        await using var connection = await local.OpenConnectionAsync(cancel);
        var lsn = await connection.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(SelectSnapshot, new { key }, cancellationToken: cancel));
        return lsn is null ? null : (ulong)NpgsqlLogSequenceNumber.Parse(lsn);
    }

    public async Task ForgetSnapshotOf(string key, CancellationToken cancel)
    {
        await using var connection = await local.OpenConnectionAsync(cancel);
        await connection.ExecuteAsync(new CommandDefinition(ForgetSnapshot, new { key }, cancellationToken: cancel));
    }

    public async Task SnapshotCompleted(string key, ulong lsn, CancellationToken cancel)
    {
        await using var connection = await local.OpenConnectionAsync(cancel);
        await connection.ExecuteAsync(new CommandDefinition(CompleteSnapshot, new { key, lsn = new NpgsqlLogSequenceNumber(lsn).ToString() }, cancellationToken: cancel));
    }

    public async Task<PollingPositions> Polling(string key, CancellationToken cancel)
    {
        await using var connection = await local.OpenConnectionAsync(cancel);
        return await connection.QuerySingleOrDefaultAsync<PollingPositions>(new CommandDefinition(SelectPolling, new { key }, cancellationToken: cancel))
            ?? new PollingPositions(null, null, null, null);
    }

    public async Task SavePollingPositions(string key, PollingPositions positions, CancellationToken cancel)
    {
        await using var connection = await local.OpenConnectionAsync(cancel);
        await connection.ExecuteAsync(new CommandDefinition(SavePolling, new { key, positions.CampaignsPosition, positions.CampaignsLastId, positions.ContactsPosition, positions.ContactsLastId }, cancellationToken: cancel));
    }
}
