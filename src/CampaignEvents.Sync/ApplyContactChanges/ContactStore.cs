using System.Text;
using CampaignEvents.Infrastructure.Configuration;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NpgsqlTypes;

namespace CampaignEvents.Sync.ApplyContactChanges;

/// <summary>What one batch did: rows inserted or updated, rows deleted, tombstones written, stale events ignored.</summary>
public readonly record struct ApplyResult(int Upserted, int Deleted, int Tombstoned, int Received)
{
    /// <summary>Written by the new-contacts path (a binary COPY) rather than the upsert; the outcome is the same.</summary>
    public bool Copied { get; init; }
}

/// <summary>
/// Writes a batch of contact changes: one transaction, one lock statement and one set-based
/// statement, whatever the batch size (docs/adr/0001, 0003).
/// </summary>
internal sealed class ContactStore([FromKeyedServices(DatabaseSettings.Contacts)] NpgsqlDataSource dataSource)
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

    // The new-contacts path (docs/adr/0010): after the bucket locks, in a new snapshot, are there
    // tombstones in the batch's campaigns at all (one index probe per campaign, not one per row)?
    // Is one of a few keys spread over the batch there already (then the batch is most likely
    // updates, which the COPY would only find out by failing)? And the transaction's now(), which
    // the upsert writes to applied_at and updated_at.
    const string NewContactsCheckSql = """
        SELECT EXISTS (SELECT 1 FROM contact_tombstones WHERE campaign_id = ANY(@campaignIds::uuid[]))
               OR EXISTS (SELECT 1 FROM contacts c
                          JOIN unnest(@sampleCampaignIds::uuid[], @samplePhoneNumbers::text[]) AS s (campaign_id, phone_number)
                            ON c.campaign_id = s.campaign_id AND c.phone_number = s.phone_number) AS taken,
               now() AS now
        """;

    /// <summary>Keys of a batch looked up before its COPY is tried.</summary>
    const int SampledKeys = 8;

    const string CopySql = "COPY contacts (campaign_id, phone_number, metadata, version, applied_at, updated_at) FROM STDIN (FORMAT BINARY)";

    /// <summary>
    /// Batches of at least this many changes and no delete try the new-contacts path first: a
    /// binary COPY into <c>contacts</c>. Below it the extra round trip is not worth it.
    /// </summary>
    public const int CopyThreshold = 500;

    /// <summary>Applies changes that hold at most one event per key (see <see cref="LwwTable.Collapse"/>).</summary>
    public async Task<ApplyResult> Apply(IReadOnlyList<ContactChange> changes, CancellationToken cancel)
    {
        if (changes.Count == 0)
        {
            return new ApplyResult(0, 0, 0, 0);
        }

        if (changes.Count >= CopyThreshold && !changes.Any(c => c.IsDelete) && await TryInsertNew(changes, cancel) is { } inserted)
        {
            return inserted;
        }

        return await Upsert(changes, cancel);
    }

    /// <summary>
    /// The new-contacts path: when no contact of the batch exists locally and its campaigns hold no
    /// tombstone, the upsert's guards cannot fire (no conflict, no newer tombstone) and it would
    /// insert every row: a binary COPY inserts the same rows for less (docs/adr/0010). The
    /// unique index decides "no contact exists": a key there already, or inserted by a concurrent
    /// batch (COPY waits for its commit), fails the COPY with a unique violation, and the batch is
    /// applied by <see cref="Upsert"/> instead, in a new transaction. So is any other refusal, so
    /// the reasons of refused batches are the upsert's. Null when the batch took the other path.
    /// </summary>
    async Task<ApplyResult?> TryInsertNew(IReadOnlyList<ContactChange> changes, CancellationToken cancel)
    {
        // the upsert's lock order, which makes concurrent COPYs of overlapping keys wait rather than deadlock
        var sorted = Sorted(changes);
        var campaignIds = sorted.Select(c => c.CampaignId).Distinct().ToArray();
        await using var connection = await dataSource.OpenConnectionAsync(cancel);
        await using var transaction = await connection.BeginTransactionAsync(cancel);
        try
        {
            await Lock(connection, transaction, sorted, cancel);
            var samples = Enumerable.Range(0, SampledKeys).Select(i => sorted[i * (sorted.Length - 1) / (SampledKeys - 1)]).ToArray();
            var (taken, now) = await connection.QuerySingleAsync<(bool Taken, DateTime Now)>(new CommandDefinition(
                NewContactsCheckSql,
                new
                {
                    campaignIds,
                    sampleCampaignIds = samples.Select(c => c.CampaignId).ToArray(),
                    samplePhoneNumbers = samples.Select(c => c.PhoneNumber).ToArray(),
                },
                transaction,
                cancellationToken: cancel));
            if (taken)
            {
                return null;
            }

            await using (var copy = await connection.BeginBinaryImportAsync(CopySql, cancel))
            {
                foreach (var change in sorted)
                {
                    await copy.StartRowAsync(cancel);
                    await copy.WriteAsync(change.CampaignId, NpgsqlDbType.Uuid, cancel);
                    await copy.WriteAsync(change.PhoneNumber, NpgsqlDbType.Text, cancel);
                    await copy.WriteAsync(change.Metadata!, NpgsqlDbType.Jsonb, cancel);
                    await copy.WriteAsync(change.Version, NpgsqlDbType.Bigint, cancel);
                    await copy.WriteAsync(now, NpgsqlDbType.TimestampTz, cancel);
                    await copy.WriteAsync(now, NpgsqlDbType.TimestampTz, cancel);
                }

                await copy.CompleteAsync(cancel);
            }

            await transaction.CommitAsync(cancel);
            return new ApplyResult(changes.Count, 0, 0, changes.Count) { Copied = true };
        }
        catch (PostgresException e) when (!TransientFailures.IsTransient(e) && !cancel.IsCancellationRequested)
        {
            // a contact of the batch exists (23505), or the rows are refused: the upsert decides
            return null;
        }
    }

    /// <summary>The general path: one statement with the last-writer-wins and tombstone guards.</summary>
    async Task<ApplyResult> Upsert(IReadOnlyList<ContactChange> changes, CancellationToken cancel)
    {
        var upserts = new Columns(changes.Count(c => !c.IsDelete));
        var deletes = new Columns(changes.Count - upserts.CampaignIds.Length);
        foreach (var change in changes)
        {
            (change.IsDelete ? deletes : upserts).Add(change);
        }

        var buckets = Buckets(changes);
        await using var connection = await dataSource.OpenConnectionAsync(cancel);
        await using var transaction = await connection.BeginTransactionAsync(cancel);
        await Lock(connection, transaction, buckets, cancel);
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

    /// <summary>The buckets of the batch's keys, sorted; exclusive where a key of the bucket is deleted.</summary>
    static SortedDictionary<int, bool> Buckets(IReadOnlyList<ContactChange> changes)
    {
        var buckets = new SortedDictionary<int, bool>();
        foreach (var change in changes)
        {
            var bucket = Bucket(change.CampaignId, change.PhoneNumber);
            buckets[bucket] = (buckets.TryGetValue(bucket, out var exclusive) && exclusive) || change.IsDelete;
        }

        return buckets;
    }

    static Task Lock(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<ContactChange> changes, CancellationToken cancel) =>
        Lock(connection, transaction, Buckets(changes), cancel);

    static Task Lock(NpgsqlConnection connection, NpgsqlTransaction transaction, SortedDictionary<int, bool> buckets, CancellationToken cancel) =>
        connection.ExecuteScalarAsync<long>(new CommandDefinition(
            LockSql,
            new { lockClass = LockClass, buckets = buckets.Keys.ToArray(), exclusive = buckets.Values.ToArray() },
            transaction,
            cancellationToken: cancel));

    /// <summary>
    /// The changes in the order of the upsert's <c>ORDER BY campaign_id, phone_number</c>: uuids by
    /// their bytes (as PostgreSQL compares them), phones ordinally (E.164 text, + and digits, sorts
    /// the same in every collation).
    /// </summary>
    static ContactChange[] Sorted(IReadOnlyList<ContactChange> changes)
    {
        var rank = changes.Select(c => c.CampaignId).Distinct()
            .OrderBy(id => id.ToString("N"), StringComparer.Ordinal)
            .Select((id, i) => (id, i))
            .ToDictionary(p => p.id, p => p.i);
        var sorted = changes.ToArray();
        Array.Sort(sorted, (a, b) =>
        {
            var byCampaign = rank[a.CampaignId].CompareTo(rank[b.CampaignId]);
            return byCampaign != 0 ? byCampaign : string.CompareOrdinal(a.PhoneNumber, b.PhoneNumber);
        });
        return sorted;
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
