using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Infrastructure.Digests;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CampaignEvents.Reconciliation.LocalSide;

/// <summary>A local row of a key: its row hash, version and metadata (jsonb text).</summary>
public sealed record LocalKey(string PhoneNumber, long RowHash, long Version, string Metadata);

/// <summary>The local side of the digests of docs/adr/0007, computed by PostgreSQL exactly like the source side.</summary>
public sealed class LocalContacts([FromKeyedServices(DatabaseSettings.Contacts)] NpgsqlDataSource local)
{
    const string Hashed = """
        SELECT phone_number, version,
               hashtextextended(phone_number, 0) AS k,
               hashtextextended(phone_number || '|' || metadata::text, 1) AS r
        FROM contacts
        WHERE campaign_id = @campaign
        """;

    const string BucketDigests = $"""
        SELECT (k & 255)::int AS bucket, count(*) AS count, bit_xor(r) AS hash
        FROM ({Hashed}) h
        GROUP BY 1
        """;

    const string SubBucketDigests = $"""
        SELECT (k & 65535)::int AS bucket, count(*) AS count, bit_xor(r) AS hash
        FROM ({Hashed}) h
        WHERE (k & 255)::int = ANY(@buckets)
        GROUP BY 1
        """;

    const string KeysOfSubBuckets = $"""
        SELECT phone_number, r
        FROM ({Hashed}) h
        WHERE (k & 65535)::int = ANY(@subs)
        """;

    const string KeysByPhone = """
        SELECT phone_number AS PhoneNumber, hashtextextended(phone_number || '|' || metadata::text, 1) AS RowHash, version AS Version, metadata::text AS Metadata
        FROM contacts
        WHERE campaign_id = @campaign AND phone_number = ANY(@phones)
        """;

    const string CampaignExists = "SELECT EXISTS (SELECT 1 FROM campaigns WHERE id = @campaign)";

    const string CampaignIdsSql = "SELECT id FROM campaigns ORDER BY id";

    public async Task<Dictionary<int, BucketDigest>> Buckets(Guid campaign, CancellationToken cancel) =>
        await Digests(BucketDigests, new { campaign }, cancel);

    public async Task<Dictionary<int, BucketDigest>> SubBuckets(Guid campaign, IReadOnlyList<int> buckets, CancellationToken cancel) =>
        await Digests(SubBucketDigests, new { campaign, buckets = buckets.ToArray() }, cancel);

    public async Task<Dictionary<string, long>> Keys(Guid campaign, IReadOnlyList<int> subBuckets, CancellationToken cancel)
    {
        await using var connection = await local.OpenConnectionAsync(cancel);
        var rows = await connection.QueryAsync<(string Phone, long RowHash)>(
            new CommandDefinition(KeysOfSubBuckets, new { campaign, subs = subBuckets.ToArray() }, cancellationToken: cancel));
        return rows.ToDictionary(r => r.Phone, r => r.RowHash, StringComparer.Ordinal);
    }

    public async Task<Dictionary<string, LocalKey>> ByPhone(Guid campaign, IEnumerable<string> phones, CancellationToken cancel)
    {
        await using var connection = await local.OpenConnectionAsync(cancel);
        var rows = await connection.QueryAsync<LocalKey>(
            new CommandDefinition(KeysByPhone, new { campaign, phones = phones.Distinct().ToArray() }, cancellationToken: cancel));
        return rows.ToDictionary(r => r.PhoneNumber, StringComparer.Ordinal);
    }

    public async Task<bool> Exists(Guid campaign, CancellationToken cancel)
    {
        await using var connection = await local.OpenConnectionAsync(cancel);
        return await connection.ExecuteScalarAsync<bool>(new CommandDefinition(CampaignExists, new { campaign }, cancellationToken: cancel));
    }

    public async Task<IReadOnlyList<Guid>> CampaignIds(CancellationToken cancel)
    {
        await using var connection = await local.OpenConnectionAsync(cancel);
        return [.. await connection.QueryAsync<Guid>(new CommandDefinition(CampaignIdsSql, cancellationToken: cancel))];
    }

    async Task<Dictionary<int, BucketDigest>> Digests(string sql, object parameters, CancellationToken cancel)
    {
        await using var connection = await local.OpenConnectionAsync(cancel);
        var rows = await connection.QueryAsync<(int Bucket, long Count, long Hash)>(new CommandDefinition(sql, parameters, cancellationToken: cancel));
        return rows.ToDictionary(r => r.Bucket, r => new BucketDigest(r.Count, r.Hash));
    }
}
