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

    // One statement for the whole batch (already collapsed to one event per key), changes and
    // deletes in separate arrays so that each part reads its own unnest once (a shared CTE would be
    // materialized: ~20 % more PostgreSQL CPU per row, docs/adr/0010). The guard reads the
    // tombstones after the lock above, in a new snapshot; a change wins only over a lower version of
    // the row and of the tombstone; a delete wins over a row of its version or lower.
    const string ApplySql = """
        WITH upserted AS (
            INSERT INTO contacts (campaign_id, phone_number, metadata, version, applied_at, updated_at)
            SELECT i.campaign_id, i.phone_number, i.metadata, i.version, now(), now()
            FROM unnest(@campaignIds::uuid[], @phoneNumbers::text[], @versions::bigint[], @metadata::jsonb[])
                 AS i (campaign_id, phone_number, version, metadata)
            WHERE NOT EXISTS (SELECT 1 FROM contact_tombstones t
                              WHERE t.campaign_id = i.campaign_id AND t.phone_number = i.phone_number
                                AND t.version >= i.version)
            -- two batches under shared bucket locks lock their rows in one global order: no deadlock
            ORDER BY i.campaign_id, i.phone_number
            ON CONFLICT (campaign_id, phone_number) DO UPDATE
                SET metadata = excluded.metadata, version = excluded.version,
                    applied_at = excluded.applied_at, updated_at = excluded.updated_at
                WHERE contacts.version < excluded.version
            RETURNING 1
        ),
        deleted AS (
            DELETE FROM contacts c
            USING unnest(@deleteCampaignIds::uuid[], @deletePhoneNumbers::text[], @deleteVersions::bigint[])
                  AS d (campaign_id, phone_number, version)
            WHERE c.campaign_id = d.campaign_id AND c.phone_number = d.phone_number AND c.version <= d.version
            RETURNING 1
        ),
        tombstoned AS (
            INSERT INTO contact_tombstones (campaign_id, phone_number, version, deleted_at)
            SELECT d.campaign_id, d.phone_number, d.version, now()
            FROM unnest(@deleteCampaignIds::uuid[], @deletePhoneNumbers::text[], @deleteVersions::bigint[])
                 AS d (campaign_id, phone_number, version)
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

        var upserts = new Columns(changes.Count(c => !c.IsDelete));
        var deletes = new Columns(changes.Count - upserts.CampaignIds.Length);
        var buckets = new SortedDictionary<int, bool>();
        foreach (var change in changes)
        {
            (change.IsDelete ? deletes : upserts).Add(change);
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
            new
            {
                campaignIds = upserts.CampaignIds,
                phoneNumbers = upserts.PhoneNumbers,
                versions = upserts.Versions,
                metadata = upserts.Metadata,
                deleteCampaignIds = deletes.CampaignIds,
                deletePhoneNumbers = deletes.PhoneNumbers,
                deleteVersions = deletes.Versions,
            },
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

    /// <summary>One part of a batch as the statement's parallel arrays.</summary>
    sealed class Columns(int count)
    {
        int next;

        public Guid[] CampaignIds { get; } = new Guid[count];

        public string[] PhoneNumbers { get; } = new string[count];

        public long[] Versions { get; } = new long[count];

        public string?[] Metadata { get; } = new string?[count];

        public void Add(ContactChange change)
        {
            CampaignIds[next] = change.CampaignId;
            PhoneNumbers[next] = change.PhoneNumber;
            Versions[next] = change.Version;
            Metadata[next] = change.Metadata;
            next++;
        }
    }
}
