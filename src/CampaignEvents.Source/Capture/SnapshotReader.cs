using System.Text.Json;
using CampaignEvents.Contracts;
using CampaignEvents.Source.Mapping;
using Dapper;
using Npgsql;

namespace CampaignEvents.Source.Capture;

/// <summary>
/// Reads every campaign and contact of the source through one connection whose transaction
/// already holds the snapshot to read (an exported slot snapshot, or any REPEATABLE READ one),
/// in keyset pages, and hands them over as folded changes with the snapshot's version.
/// </summary>
public sealed class SnapshotReader(SourceMapping mapping)
{
    const string ColumnType = """
        SELECT format_type(a.atttypid, a.atttypmod)
        FROM pg_attribute a
        WHERE a.attrelid = @table::regclass AND a.attname = @column AND NOT a.attisdropped
        """;

    public async Task<IReadOnlyList<CampaignChanged>> Campaigns(NpgsqlConnection connection, long version, DateTimeOffset at, CancellationToken cancel)
    {
        var sql = $"SELECT id::text, name, type, status, config::text FROM {mapping.Campaigns.Sql} ORDER BY id";
        var rows = await connection.QueryAsync<(string Id, string? Name, string? Type, string? Status, string? Config)>(new CommandDefinition(sql, cancellationToken: cancel));
        return [.. rows.Select(r => new CampaignChanged
        {
            EventId = Guid.NewGuid(),
            Id = Guid.Parse(r.Id),
            Name = r.Name ?? "",
            Type = r.Type ?? "",
            Status = r.Status ?? "",
            Config = JsonDocument.Parse(r.Config ?? "{}").RootElement.Clone(),
            Version = version,
            OccurredAt = at,
        })];
    }

    /// <summary>Pages through the contacts table; each page is folded with <paramref name="version"/> and passed to <paramref name="page"/>.</summary>
    public async Task Contacts(NpgsqlConnection connection, int pageSize, long version, DateTimeOffset at, Func<FoldedChanges, Task> page, CancellationToken cancel)
    {
        string[] keys = mapping.HasIdColumn ? [mapping.Options.IdColumn] : [mapping.Options.CampaignColumn, mapping.Options.PhoneColumn];
        var types = new List<string>();
        foreach (var key in keys)
        {
            types.Add(await connection.ExecuteScalarAsync<string>(new CommandDefinition(ColumnType, new { table = mapping.Contacts.Sql, column = key }, cancellationToken: cancel))
                ?? throw new InvalidOperationException($"column {key} of {mapping.Contacts} not found"));
        }

        var order = string.Join(", ", keys.Select(SourceMapping.Quote));
        var after = string.Join(", ", keys.Select((_, i) => $"$%{i + 1}::{types[i]}")).Replace("$%", "$", StringComparison.Ordinal);
        var first = $"SELECT {mapping.ContactSelectList} FROM {mapping.Contacts.Sql} ORDER BY {order} LIMIT {pageSize}";
        var next = $"SELECT {mapping.ContactSelectList} FROM {mapping.Contacts.Sql} WHERE ({order}) > ({after}) ORDER BY {order} LIMIT {pageSize}";
        var metadataCount = mapping.MetadataColumns.Count;
        string?[]? lastKey = null;
        while (true)
        {
            await using var command = new NpgsqlCommand(lastKey is null ? first : next, connection);
            if (lastKey is not null)
            {
                foreach (var value in lastKey)
                {
                    command.Parameters.Add(new NpgsqlParameter { Value = (object?)value ?? DBNull.Value });
                }
            }

            var changes = new List<ContactChanged>(pageSize);
            var rejected = new List<MappedContact>();
            var read = 0;
            string?[] key = [];
            await using (var reader = await command.ExecuteReaderAsync(cancel))
            {
                while (await reader.ReadAsync(cancel))
                {
                    read++;
                    var campaign = reader.IsDBNull(0) ? null : reader.GetString(0);
                    var phone = reader.IsDBNull(1) ? null : reader.GetString(1);
                    var id = reader.IsDBNull(2) ? null : reader.GetString(2);
                    var metadata = new string?[metadataCount];
                    for (var i = 0; i < metadataCount; i++)
                    {
                        metadata[i] = reader.IsDBNull(3 + i) ? null : reader.GetString(3 + i);
                    }

                    key = mapping.HasIdColumn ? [id] : [campaign, phone];
                    var row = mapping.MapContact(campaign, phone, id, metadata);
                    if (row.Rejected)
                    {
                        rejected.Add(row);
                        continue;
                    }

                    changes.Add(new ContactChanged
                    {
                        EventId = Guid.NewGuid(),
                        CampaignId = row.CampaignId,
                        PhoneNumber = row.PhoneNumber!,
                        Metadata = row.Metadata,
                        Version = version,
                        OccurredAt = at,
                    });
                }
            }

            if (read > 0)
            {
                await page(new FoldedChanges(0, [], changes, [], rejected));
            }

            if (read < pageSize)
            {
                return;
            }

            lastKey = key;
        }
    }
}
