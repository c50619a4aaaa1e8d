using System.Data;
using CampaignEvents.Contracts.Reconciliation;
using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Infrastructure.Digests;
using CampaignEvents.Source.Mapping;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using DigestScheme = CampaignEvents.Infrastructure.Digests.Digest;

namespace CampaignEvents.Source.ReconciliationSide;

/// <summary>A source row read for a repair or a report: normalized key, raw text, row hash, metadata.</summary>
internal sealed record SourceKey(string PhoneNumber, string RawPhone, long RowHash, string Metadata);

/// <summary>
/// The source side of reconciliation: reads the external database with the adapter's own
/// <see cref="SourceMapping"/> (the same tables, columns, metadata rendering and phone
/// normalization) and computes the digests of docs/adr/0007. Phones already shaped like E.164 are
/// hashed inside PostgreSQL in one scan; the others (few, in practice) are read, normalized here
/// with the mapping, and hashed by PostgreSQL in one statement over arrays (<see cref="SourceRowHashes"/>),
/// so both kinds hash exactly like the local side. Rows whose metadata the adapter may reject take the second way
/// too, and are checked with the mapping. Every read runs in one REPEATABLE READ snapshot, after
/// taking the WAL position and the read's version in the capture mode's domain (<see cref="ReadVersion"/>), in a session pinned by <see cref="SourceSession"/> (docs/adr/0013).
/// </summary>
internal sealed class SourceContacts
{
    readonly NpgsqlDataSource source;
    readonly SourceMapping mapping;
    readonly string digestRows;
    readonly string keyRows;
    readonly string rowsByPhone;
    readonly string campaignExists;
    readonly string campaignIds;
    readonly ReadVersion readVersion;
    readonly SourceRowHashes rowHashes;

    public SourceContacts([FromKeyedServices(DatabaseSettings.Source)] NpgsqlDataSource source, SourceMapping mapping)
    {
        this.source = source;
        this.mapping = mapping;
        readVersion = new ReadVersion(mapping);
        rowHashes = new SourceRowHashes(mapping);
        var o = mapping.Options;
        var table = $"{mapping.Contacts.Sql} t";
        var campaign = SourceMapping.Column("t", o.CampaignColumn);
        var phone = SourceMapping.Column("t", o.PhoneColumn);
        var metadata = mapping.MetadataJsonb("t");

        // Only rows that surely map as the adapter maps them are hashed inside PostgreSQL (e): an
        // E.164-shaped phone, and metadata the adapter surely accepts (an object, small enough even
        // if every byte were escaped on the wire, with no more brackets than Source:MaxJsonDepth).
        // Every other row is checked here with the adapter's own mapping, so a row the adapter
        // rejects is listed as rejected at source, never as missing locally (issue 12).
        // Brackets are counted with two replace() calls, not translate(): translate is character by
        // character and cost a clean reconcile of 1M rows about 1.5 s more (docs/benchmarks.md).
        var plain = $"{DigestScheme.LooksLikeE164("p")} AND left(m, 1) = '{{' AND octet_length(m) <= {o.MaxMetadataBytes / 6} AND octet_length(m) - octet_length(replace(replace(m, '{{', ''), '[', '')) <= {o.MaxJsonDepth}";
        var rows = $"""
            SELECT p, m, {plain} AS e
            FROM (SELECT {phone}::text AS p, {metadata}::text AS m
                  FROM {table}
                  WHERE {campaign} = @campaign
                  OFFSET 0) r
            OFFSET 0
            """;

        // Hashes as in Digest. OFFSET 0 keeps the subqueries from being flattened, so p, m and e are
        // computed once per row rather than once per use.
        // one scan: plain rows summarized per bucket, the others (bucket NULL) returned raw, one
        // group per distinct phone and metadata (n counts repeats); grouping by them is cheaper than
        // array_agg(...) FILTER (WHERE NOT e), which cost about 0.4 s per 1M rows (docs/benchmarks.md)
        digestRows = $"""
            SELECT CASE WHEN e THEN (hashtextextended(p, 0) & @mask)::int END AS bucket,
                   count(*) AS n,
                   bit_xor(hashtextextended(p || '|' || m, 1)) AS h,
                   CASE WHEN NOT e THEN p END AS other_phone,
                   CASE WHEN NOT e THEN m END AS other_metadata
            FROM ({rows}) s
            WHERE NOT e OR NOT @sub OR (hashtextextended(p, 0) & {DigestScheme.BucketMask})::int = ANY(@buckets)
            GROUP BY 1, 4, 5
            """;
        // one scan: plain rows of the sub-buckets with their row hash, the others raw
        keyRows = $"""
            SELECT p, e, CASE WHEN e THEN hashtextextended(p || '|' || m, 1) END AS r, CASE WHEN NOT e THEN m END AS m
            FROM ({rows}) s
            WHERE NOT e OR (hashtextextended(p, 0) & {DigestScheme.SubBucketMask})::int = ANY(@subs)
            """;
        rowsByPhone = $"""
            SELECT {phone}::text AS p, {metadata}::text AS m
            FROM {table}
            WHERE {campaign} = @campaign AND {phone} = ANY(@phones)
            """;
        campaignExists = $"SELECT EXISTS (SELECT 1 FROM {mapping.Campaigns.Sql} WHERE id = @campaign) OR EXISTS (SELECT 1 FROM {table} WHERE {campaign} = @campaign)";
        campaignIds = $"SELECT id FROM {mapping.Campaigns.Sql} ORDER BY id";
    }

    public async Task<SourceContactsDigested> Digest(DigestSourceContacts request, CancellationToken cancel)
    {
        var subLevel = request.Level == DigestLevel.SubBuckets;
        var wanted = request.Buckets.ToHashSet();
        var mask = subLevel ? DigestScheme.SubBucketMask : DigestScheme.BucketMask;

        return await InSnapshot(async (connection, read) =>
        {
            var exists = subLevel || await Scalar<bool>(connection, campaignExists, request.CampaignId, cancel);
            var buckets = new Dictionary<int, BucketDigest>();
            var raw = new List<(string? Phone, string Metadata)>();
            await using (var command = new NpgsqlCommand(digestRows, connection))
            {
                command.Parameters.AddWithValue("campaign", request.CampaignId);
                command.Parameters.AddWithValue("mask", mask);
                command.Parameters.AddWithValue("sub", subLevel);
                command.Parameters.AddWithValue("buckets", request.Buckets.ToArray());
                await using var reader = await command.ExecuteReaderAsync(cancel);
                while (await reader.ReadAsync(cancel))
                {
                    if (!reader.IsDBNull(0))
                    {
                        buckets[reader.GetInt32(0)] = new BucketDigest(reader.GetInt64(1), reader.GetInt64(2));
                        continue;
                    }

                    var row = (reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetString(4));
                    for (var repeat = reader.GetInt64(1); repeat > 0; repeat--)
                    {
                        raw.Add(row);
                    }
                }
            }

            var (others, rejected) = await rowHashes.Hash(connection, raw, cancel);
            foreach (var row in others)
            {
                if (!subLevel || wanted.Contains(DigestScheme.BucketOf(row.Sub)))
                {
                    var bucket = (int)(row.KeyHash & mask);
                    buckets[bucket] = buckets.GetValueOrDefault(bucket).Add(new BucketDigest(1, row.Key.RowHash));
                }
            }

            var ordered = buckets.OrderBy(b => b.Key).ToArray();
            return new SourceContactsDigested
            {
                CampaignId = request.CampaignId,
                CampaignExists = exists,
                Lsn = read.Lsn,
                Buckets = [.. ordered.Select(b => b.Key)],
                Counts = [.. ordered.Select(b => b.Value.Count)],
                Hashes = [.. ordered.Select(b => b.Value.Hash)],
                Rejected = subLevel ? [] : rejected,
            };
        }, cancel);
    }

    public async Task<SourceKeysListed> ListKeys(ListSourceKeys request, CancellationToken cancel) =>
        await InSnapshot(async (connection, read) =>
        {
            var keys = new List<SourceKey>();
            var rejected = new List<RejectedSourceRow>();
            if (request.SubBuckets.Count > 0)
            {
                var subs = request.SubBuckets.ToHashSet();
                var e164 = new List<(string Phone, long RowHash)>();
                var others = new List<(string? Phone, string Metadata)>();
                await using (var command = new NpgsqlCommand(keyRows, connection))
                {
                    command.Parameters.AddWithValue("campaign", request.CampaignId);
                    command.Parameters.AddWithValue("subs", request.SubBuckets.ToArray());
                    await using var reader = await command.ExecuteReaderAsync(cancel);
                    while (await reader.ReadAsync(cancel))
                    {
                        if (reader.GetBoolean(1))
                        {
                            e164.Add((reader.GetString(0), reader.GetInt64(2)));
                        }
                        else
                        {
                            others.Add((reader.IsDBNull(0) ? null : reader.GetString(0), reader.GetString(3)));
                        }
                    }
                }

                // shaped like E.164 is not yet valid: the adapter rejects what libphonenumber rejects
                foreach (var (phone, rowHash) in e164)
                {
                    var normalized = mapping.NormalizePhone(phone, out var reason);
                    if (normalized is null)
                    {
                        rejected.Add(new RejectedSourceRow { RawPhone = phone, Reason = reason! });
                    }
                    else
                    {
                        keys.Add(new SourceKey(normalized, phone, rowHash, ""));
                    }
                }

                // rows rejected here were reported with the bucket digest already
                var (hashed, _) = await rowHashes.Hash(connection, others, cancel);
                keys.AddRange(hashed.Where(o => subs.Contains(o.Sub)).Select(o => o.Key));
            }

            if (request.Phones.Count > 0)
            {
                var (rows, rowsRejected) = await ReadByPhones(connection, request.CampaignId, request.Phones, cancel);
                keys.AddRange(rows);
                rejected.AddRange(rowsRejected);
            }

            var unique = keys.DistinctBy(k => k.PhoneNumber).ToArray();
            return new SourceKeysListed
            {
                CampaignId = request.CampaignId,
                Lsn = read.Lsn,
                ReadVersion = read.Version,
                Phones = [.. unique.Select(k => k.PhoneNumber)],
                RawPhones = [.. unique.Select(k => k.RawPhone)],
                RowHashes = [.. unique.Select(k => k.RowHash)],
                Metadata = request.IncludeMetadata ? [.. unique.Select(k => k.Metadata)] : [],
                Rejected = rejected,
            };
        }, cancel);

    /// <summary>The current rows of these keys (normalized phones, plus raw texts where known), in one snapshot, with the position and version taken before it.</summary>
    public async Task<(SourceRead Read, IReadOnlyList<SourceKey> Rows)> ReadForRepair(Guid campaignId, IEnumerable<string> phones, CancellationToken cancel) =>
        await InSnapshot(async (connection, read) =>
        {
            var (rows, _) = await ReadByPhones(connection, campaignId, [.. phones], cancel);
            return (read, (IReadOnlyList<SourceKey>)rows);
        }, cancel);

    public async Task<IReadOnlyList<Guid>> CampaignIds(CancellationToken cancel)
    {
        await using var connection = await source.OpenConnectionAsync(cancel);
        await using var command = new NpgsqlCommand(campaignIds, connection);
        await using var reader = await command.ExecuteReaderAsync(cancel);
        var ids = new List<Guid>();
        while (await reader.ReadAsync(cancel))
        {
            ids.Add(reader.GetGuid(0));
        }

        return ids;
    }

    async Task<(List<SourceKey> Rows, List<RejectedSourceRow> Rejected)> ReadByPhones(NpgsqlConnection connection, Guid campaignId, IReadOnlyList<string> phones, CancellationToken cancel)
    {
        var raw = new List<(string? Phone, string Metadata)>();
        await using (var command = new NpgsqlCommand(rowsByPhone, connection))
        {
            command.Parameters.AddWithValue("campaign", campaignId);
            command.Parameters.AddWithValue("phones", phones.Distinct().ToArray());
            await using var reader = await command.ExecuteReaderAsync(cancel);
            while (await reader.ReadAsync(cancel))
            {
                raw.Add((reader.GetString(0), reader.GetString(1)));
            }
        }

        var (hashed, rejected) = await rowHashes.Hash(connection, raw, cancel);
        return ([.. hashed.Select(h => h.Key)], rejected);
    }

    async Task<T> InSnapshot<T>(Func<NpgsqlConnection, SourceRead, Task<T>> read, CancellationToken cancel)
    {
        await using var connection = await source.OpenConnectionAsync(cancel);
        await SourceSession.Pin(connection, cancel);

        // the position and version first, in their own statement: every change the snapshot misses comes after them
        var before = await readVersion.BeforeSnapshot(connection, cancel);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancel);
        var result = await read(connection, before);
        await transaction.CommitAsync(cancel);
        return result;
    }

    static async Task<T> Scalar<T>(NpgsqlConnection connection, string sql, Guid? campaign, CancellationToken cancel)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        if (campaign is { } id)
        {
            command.Parameters.AddWithValue("campaign", id);
        }

        return (T)(await command.ExecuteScalarAsync(cancel))!;
    }
}
