using CampaignEvents.Contracts.Reconciliation;
using CampaignEvents.Source.Mapping;
using Npgsql;
using NpgsqlTypes;
using DigestScheme = CampaignEvents.Infrastructure.Digests.Digest;

namespace CampaignEvents.Source.ReconciliationSide;

/// <summary>
/// Source rows that cannot be hashed inside PostgreSQL in one scan (a phone not yet shaped like
/// E.164, metadata the adapter may reject): checked here with the adapter's own
/// <see cref="SourceMapping"/>, so a row the adapter rejects is listed as rejected at source, and
/// the others hashed by PostgreSQL in one statement over arrays, exactly like the local side.
/// </summary>
sealed class SourceRowHashes(SourceMapping mapping)
{
    const string HashRows = """
        SELECT hashtextextended(p, 0) AS k, hashtextextended(p || '|' || m, 1) AS r
        FROM unnest(@phones::text[], @metadata::text[]) WITH ORDINALITY AS u(p, m, i)
        ORDER BY i
        """;

    public async Task<(List<HashedRow> Rows, List<RejectedSourceRow> Rejected)> Hash(NpgsqlConnection connection, List<(string? Phone, string Metadata)> raw, CancellationToken cancel)
    {
        var rejected = new List<RejectedSourceRow>();
        var valid = new List<(string Phone, string Raw, string Metadata)>();
        foreach (var (phone, metadata) in raw)
        {
            var normalized = mapping.NormalizePhone(phone, out var reason);
            if (normalized is null)
            {
                rejected.Add(new RejectedSourceRow { RawPhone = phone ?? "", Reason = reason! });
            }
            else if (mapping.MetadataProblem(metadata) is { } problem)
            {
                // the adapter rejects the row for its metadata (SourceMapping.MapContact)
                rejected.Add(new RejectedSourceRow { RawPhone = phone!, Reason = problem });
            }
            else
            {
                valid.Add((normalized, phone!, metadata));
            }
        }

        var rows = new List<HashedRow>(valid.Count);
        if (valid.Count == 0)
        {
            return (rows, rejected);
        }

        await using var command = new NpgsqlCommand(HashRows, connection);
        command.Parameters.Add(new NpgsqlParameter("phones", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = valid.Select(v => v.Phone).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("metadata", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = valid.Select(v => v.Metadata).ToArray() });
        await using var reader = await command.ExecuteReaderAsync(cancel);
        var i = 0;
        while (await reader.ReadAsync(cancel))
        {
            var (phone, rawPhone, metadata) = valid[i++];
            rows.Add(new HashedRow(new SourceKey(phone, rawPhone, reader.GetInt64(1), metadata), reader.GetInt64(0)));
        }

        return (rows, rejected);
    }
}

/// <summary>A source row, checked and hashed, with the hash of its key (which places it in a bucket).</summary>
sealed record HashedRow(SourceKey Key, long KeyHash)
{
    public int Sub => (int)(KeyHash & DigestScheme.SubBucketMask);
}
