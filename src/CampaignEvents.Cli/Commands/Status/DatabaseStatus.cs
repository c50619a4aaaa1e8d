using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Source.SlotHealth;
using Dapper;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace CampaignEvents.Cli.Commands.Status;

/// <summary>
/// The databases' part of <c>status</c>: per campaign what the local database holds, and the
/// source's replication slot. A database that does not answer gives its one-line error instead.
/// </summary>
static class DatabaseStatus
{
    const string CampaignsSql = """
        SELECT c.id AS id, c.name AS name,
               coalesce(k.rows, 0) AS localrows,
               coalesce(t.tombstones, 0) AS tombstones,
               k.last_version AS lastversion, k.last_applied_at AS lastappliedat,
               r.outcome AS lastreconciliation, r.finished_at AS lastreconciledat
        FROM campaigns c
        LEFT JOIN LATERAL (
            SELECT count(*) AS rows, max(version) AS last_version, max(applied_at) AS last_applied_at
            FROM contacts WHERE campaign_id = c.id) k ON true
        LEFT JOIN LATERAL (
            SELECT count(*) AS tombstones FROM contact_tombstones WHERE campaign_id = c.id) t ON true
        LEFT JOIN LATERAL (
            SELECT outcome, finished_at FROM reconciliation_runs
            WHERE campaign_id = c.id ORDER BY started_at DESC LIMIT 1) r ON true
        ORDER BY c.name, c.id
        """;

    public static async Task<(IReadOnlyList<CampaignStatus> Campaigns, string? Error)> Campaigns(NpgsqlConnectionStringBuilder local, CancellationToken cancel)
    {
        try
        {
            await using var connection = new NpgsqlConnection(local.ConnectionString);
            await connection.OpenAsync(cancel);
            return ([.. await connection.QueryAsync<CampaignStatus>(new CommandDefinition(CampaignsSql, cancellationToken: cancel))], null);
        }
        catch (NpgsqlException e)
        {
            return ([], Failures.Database(DatabaseSettings.Contacts, local, e).Message);
        }
    }

    /// <summary>The slot <paramref name="slotName"/> in the source database; a missing <c>ConnectionStrings:Source</c> is the source's error too.</summary>
    public static async Task<(SlotStatus? Slot, string? Error)> Slot(IConfiguration configuration, string slotName, CancellationToken cancel)
    {
        NpgsqlConnectionStringBuilder target;
        try
        {
            target = DatabaseSettings.Require(configuration, DatabaseSettings.Source);
        }
        catch (SettingsException e)
        {
            return (null, e.Message);
        }

        try
        {
            await using var connection = new NpgsqlConnection(target.ConnectionString);
            await connection.OpenAsync(cancel);
            var s = await SlotObservation.Read(connection, slotName, cancel);
            return (new SlotStatus(s.Name, s.Exists, s.Active, s.LagBytes, s.ConfirmedFlushLsn, s.WalStatus, s.FlushLagSeconds, s.SafeWalSizeBytes), null);
        }
        catch (NpgsqlException e)
        {
            return (null, Failures.Database(DatabaseSettings.Source, target, e).Message);
        }
    }
}
