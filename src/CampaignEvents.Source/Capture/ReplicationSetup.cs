using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Source.Configuration;
using CampaignEvents.Source.Mapping;
using CampaignEvents.Source.SlotHealth;
using CampaignEvents.Source.State;
using Dapper;
using Microsoft.Extensions.Logging;
using Npgsql;
using Npgsql.Replication;

namespace CampaignEvents.Source.Capture;

/// <summary>
/// The publication and the permanent pgoutput slot that replication capture reads (docs/adr/0004):
/// created when missing, checked when they exist, and a lost slot refused unless Source:RecreateSlot.
/// </summary>
internal sealed partial class ReplicationSetup(SourceOptions settings, NpgsqlDataSource source, AdapterState state, SourceMapping mapping, ILogger logger)
{
    const string PublicationTables = """
        SELECT schemaname || '.' || tablename FROM pg_publication_tables WHERE pubname = @publication
        """;

    const string PublicationExists = "SELECT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = @publication)";

    public async Task EnsurePublication(CancellationToken cancel)
    {
        await using var connection = await source.OpenConnectionAsync(cancel);
        var tables = (await connection.QueryAsync<string>(new CommandDefinition(PublicationTables, new { publication = settings.PublicationName }, cancellationToken: cancel))).ToHashSet();
        var wanted = new[] { mapping.Campaigns, mapping.Contacts };
        var exists = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(PublicationExists, new { publication = settings.PublicationName }, cancellationToken: cancel));
        if (!exists)
        {
            // TRUNCATE is not captured: it carries no rows (reconciliation repairs it, see README)
            var sql = $"CREATE PUBLICATION {SourceMapping.Quote(settings.PublicationName)} FOR TABLE {string.Join(", ", wanted.Select(t => t.Sql))} WITH (publish = 'insert, update, delete')";
            try
            {
                await connection.ExecuteAsync(new CommandDefinition(sql, cancellationToken: cancel));
                LogPublicationCreated(settings.PublicationName);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
            {
                throw new SettingsException($"cannot create publication {settings.PublicationName} on the source ({e.MessageText}): create it as the tables' owner with CREATE PUBLICATION {SourceMapping.Quote(settings.PublicationName)} FOR TABLE {string.Join(", ", wanted.Select(t => t.Sql))} (setting Source__PublicationName)", e);
            }

            return;
        }

        foreach (var table in wanted.Where(t => !tables.Contains(t.ToString())))
        {
            throw new SettingsException($"publication {settings.PublicationName} on the source does not include {table}: run ALTER PUBLICATION {SourceMapping.Quote(settings.PublicationName)} ADD TABLE {table.Sql} (setting Source__PublicationName)");
        }
    }

    /// <summary>
    /// True when the slot already existed and can stream (and belongs to this database and
    /// pgoutput); false when it was created, so a snapshot must follow. A slot dropped after a
    /// completed snapshot, or invalidated, is refused unless Source:RecreateSlot (docs/adr/0004).
    /// </summary>
    public async Task<bool> EnsureSlot(LogicalReplicationConnection replication, string database, string key, CancellationToken cancel)
    {
        SlotObservation slot;
        await using (var connection = await source.OpenConnectionAsync(cancel))
        {
            slot = await SlotObservation.Read(connection, settings.SlotName, cancel);
        }

        if (slot.Exists && (slot.Plugin != "pgoutput" || slot.Database != database))
        {
            throw new SettingsException($"replication slot {settings.SlotName} on the source belongs to {slot.Database} / {slot.Plugin}, not to {database} / pgoutput: choose another Source__SlotName");
        }

        var snapshotCompleted = await state.CompletedSnapshot(key, cancel) is not null;
        switch (SlotContinuity.Decide(slot, snapshotCompleted, settings.RecreateSlot))
        {
            case SlotDecision.Resume:
                LogResuming(settings.SlotName, slot.ConfirmedFlushLsn ?? "?", slot.WalStatus ?? "?", slot.LagBytes ?? 0);
                return true;
            case SlotDecision.Refuse:
                throw new SettingsException(SlotContinuity.Refusal(slot));
            case SlotDecision.Recreate:
                LogRecreating(settings.SlotName, slot.Lost ? "invalidated (wal_status lost)" : "dropped");
                if (slot.Exists)
                {
                    await using var connection = await source.OpenConnectionAsync(cancel);
                    await connection.ExecuteAsync(new CommandDefinition("SELECT pg_drop_replication_slot(@slot)", new { slot = settings.SlotName }, cancellationToken: cancel));
                }

                break;
        }

        // forgotten before the new slot exists: a crash between the two must still lead to a new
        // snapshot, never to a resume from a new slot with the old snapshot counted as complete
        await state.ForgetSnapshotOf(key, cancel);
        var created = await replication.CreatePgOutputReplicationSlot(settings.SlotName, temporarySlot: false, LogicalSlotSnapshotInitMode.NoExport, cancellationToken: cancel);
        LogSlotCreated(settings.SlotName, created.ConsistentPoint.ToString());
        return false;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Created publication {Publication} on the source")]
    partial void LogPublicationCreated(string publication);

    [LoggerMessage(Level = LogLevel.Information, Message = "Created replication slot {Slot} at {Lsn}")]
    partial void LogSlotCreated(string slot, string lsn);

    [LoggerMessage(Level = LogLevel.Information, Message = "Resuming replication slot {Slot} from {Lsn}: wal_status {WalStatus}, {LagBytes} bytes of WAL behind")]
    partial void LogResuming(string slot, string lsn, string walStatus, long lagBytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replication slot {Slot} was {What}: re-creating it and taking a new snapshot (Source:RecreateSlot); rows deleted at the source meanwhile stay locally until campaign-events reconcile --all --repair")]
    partial void LogRecreating(string slot, string what);
}
