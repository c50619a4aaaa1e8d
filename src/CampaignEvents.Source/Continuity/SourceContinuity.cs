using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Source.Capture;
using CampaignEvents.Source.Configuration;
using CampaignEvents.Source.SlotHealth;
using Dapper;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace CampaignEvents.Source.Continuity;

/// <summary>
/// Before <c>run</c> starts a host: would the adapter continue the history the local database was
/// built from? A changed version domain or a slot that is gone ends the command with the same one
/// line the running adapter would log, on standard error. Reads only; the capture records.
/// </summary>
static class SourceContinuity
{
    const string Migrated = "SELECT to_regclass('source_version_domain') IS NOT NULL AND to_regclass('source_adapter_state') IS NOT NULL";

    const string SnapshotCompleted = """
        SELECT EXISTS (SELECT 1 FROM source_adapter_state WHERE capture_key = @key AND snapshot_completed_at IS NOT NULL)
        """;

    public static async Task CheckAsync(IConfiguration configuration, SourceOptions options, NpgsqlDataSource source, CancellationToken cancel)
    {
        var target = DatabaseSettings.Require(configuration, DatabaseSettings.Contacts);
        await using var local = new NpgsqlConnection(target.ConnectionString);
        await local.OpenAsync(cancel);
        if (!await local.ExecuteScalarAsync<bool>(new CommandDefinition(Migrated, cancellationToken: cancel)))
        {
            // the capture says which migration is missing
            return;
        }

        var recorded = await VersionDomainGuard.Recorded(local, cancel);
        var current = await VersionDomain.Of(source, options.Mode, cancel);
        if (recorded is not null && recorded != current)
        {
            throw new SettingsException(VersionDomainGuard.Refusal(recorded, current));
        }

        if (options.Mode != CaptureMode.Replication)
        {
            return;
        }

        var key = ReplicationCapture.StateKey(new NpgsqlConnectionStringBuilder(source.ConnectionString).Database ?? "", options.SlotName);
        var completed = await local.ExecuteScalarAsync<bool>(new CommandDefinition(SnapshotCompleted, new { key }, cancellationToken: cancel));
        await using var connection = await source.OpenConnectionAsync(cancel);
        var slot = await SlotObservation.Read(connection, options.SlotName, cancel);
        if (SlotContinuity.Decide(slot, completed, options.RecreateSlot) == SlotDecision.Refuse)
        {
            throw new SettingsException(SlotContinuity.Refusal(slot));
        }
    }
}
