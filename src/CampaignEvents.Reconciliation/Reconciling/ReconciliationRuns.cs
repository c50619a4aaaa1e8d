using CampaignEvents.Contracts.Reconciliation;
using CampaignEvents.Infrastructure.Configuration;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CampaignEvents.Reconciliation.Reconciling;

/// <summary>Stores reports in <c>reconciliation_runs</c> and <c>reconciliation_run_keys</c> (migration 004).</summary>
internal sealed class ReconciliationRuns([FromKeyedServices(DatabaseSettings.Contacts)] NpgsqlDataSource local)
{
    const string InsertRun = """
        INSERT INTO reconciliation_runs (
            id, campaign_id, outcome, started_at, finished_at, source_contacts, local_contacts,
            buckets_compared, buckets_differing, settled_in_flight, still_changing,
            missing_locally, extra_locally, different, rejected_at_source,
            repair_requested, repaired_keys, converged, source_lsn)
        VALUES (
            @RunId, @CampaignId, @Outcome, @StartedAt, @FinishedAt, @SourceContacts, @LocalContacts,
            @BucketsCompared, @BucketsDiffering, @SettledInFlight, @StillChanging,
            @Missing, @Extra, @Different, @Rejected,
            @RepairRequested, @RepairedKeys, @Converged, @SourceLsn::pg_lsn)
        """;

    const string InsertKeys = """
        INSERT INTO reconciliation_run_keys (run_id, kind, phone_number, local_version, source_version, local_metadata, source_metadata, detail)
        SELECT @run, k.kind, k.phone, k.local_version, k.source_version, k.local_metadata::jsonb, k.source_metadata::jsonb, k.detail
        FROM unnest(@kinds::text[], @phones::text[], @localVersions::bigint[], @sourceVersions::bigint[],
                    @localMetadata::text[], @sourceMetadata::text[], @details::text[])
             AS k(kind, phone, local_version, source_version, local_metadata, source_metadata, detail)
        ON CONFLICT DO NOTHING
        """;

    public async Task Store(CampaignReconciled report, CancellationToken cancel)
    {
        var keys = report.Drift.Select(d => (d.Kind, d.PhoneNumber, d.LocalVersion, d.SourceVersion, d.LocalMetadata, d.SourceMetadata, Detail: (string?)null))
            .Concat(report.Repaired.Select(d => ("repaired", d.PhoneNumber, d.LocalVersion, d.SourceVersion, d.LocalMetadata, d.SourceMetadata, Detail: (string?)d.Kind)))
            .Concat(report.RejectedAtSource.Select(r => ("rejected_at_source", r.RawPhone, (long?)null, (long?)null, (string?)null, (string?)null, Detail: (string?)r.Reason)))
            .ToArray();

        await using var connection = await local.OpenConnectionAsync(cancel);
        await using var transaction = await connection.BeginTransactionAsync(cancel);
        await connection.ExecuteAsync(new CommandDefinition(InsertRun, new
        {
            report.RunId,
            report.CampaignId,
            report.Outcome,
            report.StartedAt,
            report.FinishedAt,
            report.SourceContacts,
            report.LocalContacts,
            report.BucketsCompared,
            report.BucketsDiffering,
            report.SettledInFlight,
            report.StillChanging,
            Missing = report.Drift.Count(d => d.Kind == DriftKinds.MissingLocally),
            Extra = report.Drift.Count(d => d.Kind == DriftKinds.ExtraLocally),
            Different = report.Drift.Count(d => d.Kind == DriftKinds.Different),
            Rejected = report.RejectedAtSource.Count,
            report.RepairRequested,
            RepairedKeys = report.Repaired.Count,
            report.Converged,
            report.SourceLsn,
        }, transaction, cancellationToken: cancel));

        if (keys.Length > 0)
        {
            await connection.ExecuteAsync(new CommandDefinition(InsertKeys, new
            {
                run = report.RunId,
                kinds = keys.Select(k => k.Item1).ToArray(),
                phones = keys.Select(k => k.Item2).ToArray(),
                localVersions = keys.Select(k => k.Item3).ToArray(),
                sourceVersions = keys.Select(k => k.Item4).ToArray(),
                localMetadata = keys.Select(k => k.Item5).ToArray(),
                sourceMetadata = keys.Select(k => k.Item6).ToArray(),
                details = keys.Select(k => k.Detail).ToArray(),
            }, transaction, cancellationToken: cancel));
        }

        await transaction.CommitAsync(cancel);
    }
}
