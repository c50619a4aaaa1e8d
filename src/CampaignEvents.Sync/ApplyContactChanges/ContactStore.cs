using System.Text;
using CampaignEvents.Infrastructure.Configuration;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CampaignEvents.Sync.ApplyContactChanges;

/// <summary>What one batch did: rows inserted or updated, rows deleted, tombstones written, stale events ignored.</summary>
public readonly record struct ApplyResult(int Upserted, int Deleted, int Tombstoned, int Received);

/// <summary>
/// Writes a batch of contact changes: one transaction, one lock statement and one set-based
/// statement, whatever the batch size (docs/adr/0001, 0003).
/// </summary>
public sealed class ContactStore([FromKeyedServices(DatabaseSettings.Contacts)] NpgsqlDataSource dataSource)
{
    /// <summary>Advisory lock class of the key buckets (ASCII "CE").</summary>
    const int LockClass = 0x4345;

    /// <summary>Keys are locked by bucket: enough to rarely collide, few enough for PostgreSQL's lock table.</summary>
    public const int LockBuckets = 256;

    // A change and a delete of one key in two concurrent transactions must not both pass the guard:
    // the delete takes its key's bucket exclusively, changes take theirs shared (changes alone never
    // wait for each other; their races are settled by ON CONFLICT). Buckets come sorted, so two
    // batches never wait for each other in a cycle. A function scan returns the array in order.
    const string LockSql = """
        SELECT count(CASE WHEN exclusive THEN pg_advisory_xact_lock(@lockClass, bucket)::text
                          ELSE pg_advisory_xact_lock_shared(@lockClass, bucket)::text END)
        FROM unnest(@buckets::int[], @exclusive::boolean[]) AS l (bucket, exclusive)
        """;

    // One statement for the whole batch (already collapsed to one event per key). The guard reads
    // the tombstones after the lock above, in a new snapshot; a change wins only over a lower
    // version of the row and of the tombstone; a delete wins over a row of its version or lower.
    const string ApplySql = """
        WITH incoming AS (
            SELECT i.campaign_id, i.phone_number, i.version, i.metadata
            FROM unnest(@campaignIds::uuid[], @phoneNumbers::text[], @versions::bigint[], @metadata::jsonb[])
                 AS i (campaign_id, phone_number, version, metadata)
        ),
        guarded AS (
            SELECT i.campaign_id, i.phone_number, i.version, i.metadata
            FROM incoming i
            LEFT JOIN contact_tombstones t ON t.campaign_id = i.campaign_id AND t.phone_number = i.phone_number
            WHERE i.metadata IS NULL OR t.version IS NULL OR t.version < i.version
        ),
        upserted AS (
            INSERT INTO contacts (campaign_id, phone_number, metadata, version, applied_at, updated_at)
            SELECT campaign_id, phone_number, metadata, version, now(), now()
            FROM guarded
            WHERE metadata IS NOT NULL
            -- two batches under shared bucket locks lock their rows in one global order: no deadlock
            ORDER BY campaign_id, phone_number
            ON CONFLICT (campaign_id, phone_number) DO UPDATE
                SET metadata = excluded.metadata, version = excluded.version,
                    applied_at = excluded.applied_at, updated_at = excluded.updated_at
                WHERE contacts.version < excluded.version
            RETURNING 1
        ),
        deleted AS (
            DELETE FROM contacts c
            USING guarded g
            WHERE g.metadata IS NULL AND c.campaign_id = g.campaign_id AND c.phone_number = g.phone_number
              AND c.version <= g.version
            RETURNING 1
        ),
        tombstoned AS (
            INSERT INTO contact_tombstones (campaign_id, phone_number, version, deleted_at)
            SELECT campaign_id, phone_number, version, now()
            FROM guarded
            WHERE metadata IS NULL
            ON CONFLICT (campaign_id, phone_number) DO UPDATE
                SET version = excluded.version, deleted_at = excluded.deleted_at
                WHERE contact_tombstones.version < excluded.version
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM upserted)::int AS upserted,
               (SELECT count(*) FROM deleted)::int AS deleted,
               (SELECT count(*) FROM tombstoned)::int AS tombstoned
        """;

    /// <summary>Applies changes that hold at most one event per key (see <see cref="LwwTable.Collapse"/>).</summary>
    public async Task<ApplyResult> Apply(IReadOnlyList<ContactChange> changes, CancellationToken cancel)
    {
        if (changes.Count == 0)
        {
            return new ApplyResult(0, 0, 0, 0);
        }

        var campaignIds = new Guid[changes.Count];
        var phoneNumbers = new string[changes.Count];
        var versions = new long[changes.Count];
        var metadata = new string?[changes.Count];
        var buckets = new SortedDictionary<int, bool>();
        for (var i = 0; i < changes.Count; i++)
        {
            var change = changes[i];
            campaignIds[i] = change.CampaignId;
            phoneNumbers[i] = change.PhoneNumber;
            versions[i] = change.Version;
            metadata[i] = change.Metadata;
            var bucket = Bucket(change.CampaignId, change.PhoneNumber);
            buckets[bucket] = (buckets.TryGetValue(bucket, out var exclusive) && exclusive) || change.IsDelete;
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancel);
        await using var transaction = await connection.BeginTransactionAsync(cancel);
        await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            LockSql,
            new { lockClass = LockClass, buckets = buckets.Keys.ToArray(), exclusive = buckets.Values.ToArray() },
            transaction,
            cancellationToken: cancel));
        var result = await connection.QuerySingleAsync<(int Upserted, int Deleted, int Tombstoned)>(new CommandDefinition(
            ApplySql,
            new { campaignIds, phoneNumbers, versions, metadata },
            transaction,
            cancellationToken: cancel));
        await transaction.CommitAsync(cancel);
        return new ApplyResult(result.Upserted, result.Deleted, result.Tombstoned, changes.Count);
    }

    /// <summary>A stable bucket of a key, the same in every process (FNV-1a over the campaign id and the phone).</summary>
    public static int Bucket(Guid campaignId, string phoneNumber)
    {
        const uint prime = 16777619;
        var hash = 2166136261;
        Span<byte> id = stackalloc byte[16];
        campaignId.TryWriteBytes(id);
        foreach (var b in id)
        {
            hash = (hash ^ b) * prime;
        }

        foreach (var b in Encoding.UTF8.GetBytes(phoneNumber))
        {
            hash = (hash ^ b) * prime;
        }

        return (int)(hash % LockBuckets);
    }
}
