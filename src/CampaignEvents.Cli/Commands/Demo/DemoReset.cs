using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Infrastructure.Database;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.Source.Configuration;
using CampaignEvents.Source.Mapping;
using Dapper;
using Npgsql;

namespace CampaignEvents.Cli.Commands.Demo;

/// <summary>Puts both demo databases and the queues back to empty, so every demo starts the same way.</summary>
static class DemoReset
{
    /// <summary>
    /// Drops the demo's replication slot once the demo ends: a slot nobody reads keeps the source's
    /// WAL forever. (A real deployment keeps its slot: `run` resumes from it.)
    /// </summary>
    public static async Task DropSlot(NpgsqlDataSource source, string slot)
    {
        await using var connection = await source.OpenConnectionAsync();
        // the adapter's replication connection may take a moment to let go of the slot after the host stopped
        if (!await ReplicationSlots.Drop(connection, slot, prefix: false, deadline: TimeSpan.FromSeconds(10)))
        {
            Console.Error.WriteLine($"warning: the replication slot {slot} is still in use; drop it when done: SELECT pg_drop_replication_slot('{slot}')");
        }
    }

    public static async Task Run(NpgsqlDataSource source, NpgsqlDataSource local, SourceOptions options, RabbitMqOptions rabbit, CancellationToken cancel)
    {
        await using (var connection = await source.OpenConnectionAsync(cancel))
        {
            var active = await connection.ExecuteScalarAsync<bool?>("SELECT active FROM pg_replication_slots WHERE slot_name = @slot", new { slot = options.SlotName });
            if (active == true)
            {
                throw new SettingsException($"the replication slot {options.SlotName} (Source:SlotName) is in use by a running source adapter; stop `campaign-events run` first");
            }

            if (active is not null)
            {
                await connection.ExecuteAsync("SELECT pg_drop_replication_slot(@slot)", new { slot = options.SlotName });
            }

            await connection.ExecuteAsync($"DROP PUBLICATION IF EXISTS \"{options.PublicationName}\"");
            await connection.ExecuteAsync("DROP TABLE IF EXISTS contacts, campaigns CASCADE");
            await connection.ExecuteAsync(DefaultSourceSchema.Sql);
            // the source admin's one-time step: the source role's grants and the publication
            await RoleGrants.ApplySource(connection, options.PublicationName, cancel);
        }

        await using (var connection = await local.OpenConnectionAsync(cancel))
        {
            await connection.ExecuteAsync("TRUNCATE contacts, contact_tombstones, campaigns, reconciliation_runs, reconciliation_run_keys, source_adapter_state");
        }

        // events of an earlier run must not land in this one; purged over AMQP, which the pipeline's
        // own broker user may do on the queues it reads (queue.purge needs read permission)
        await using var broker = await BrokerConnection.Open(rabbit, "campaign-events demo reset", cancel);
        foreach (var queue in new[] { Topology.ContactChangesQueue, Topology.CampaignChangesQueue, Topology.ReconciliationQueue })
        {
            await using var channel = await broker.CreateChannelAsync(cancellationToken: cancel);
            try
            {
                await channel.QueuePurgeAsync(queue, cancel);
            }
            catch (RabbitMQ.Client.Exceptions.OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 404)
            {
                // the queue does not exist yet, nothing to purge
            }
            catch (RabbitMQ.Client.Exceptions.OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 403)
            {
                throw new SettingsException($"the broker refused to purge {queue} ({e.ShutdownReason.ReplyText}); the user of RabbitMq:Username needs read permission on it");
            }
        }
    }
}
