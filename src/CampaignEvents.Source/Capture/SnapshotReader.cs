using CampaignEvents.Contracts;
using CampaignEvents.Source.Mapping;
using Dapper;
using Npgsql;

namespace CampaignEvents.Source.Capture;

/// <summary>
/// Reads every campaign and contact of the source through one connection whose transaction
/// already holds the snapshot to read (an exported slot snapshot, or any REPEATABLE READ one),
/// in pages, and hands them over as folded changes with the snapshot's version. The caller pins
/// the session (<see cref="SourceSession"/>) inside that transaction.
/// </summary>
public sealed class SnapshotReader(SourceMapping mapping)
{
    /// <summary>Every campaign, mapped; the rows the mapping rejects are returned apart, to be reported.</summary>
    public async Task<(IReadOnlyList<CampaignChanged> Campaigns, IReadOnlyList<MappedCampaign> Rejected)> Campaigns(NpgsqlConnection connection, long version, DateTimeOffset at, CancellationToken cancel)
    {
        var sql = $"SELECT {SourceMapping.CampaignSelectList} FROM {mapping.Campaigns.Sql} ORDER BY id";
        var rows = await connection.QueryAsync<(string Id, string? Name, string? Type, string? Status, string? Config)>(new CommandDefinition(sql, cancellationToken: cancel));
        var mapped = rows.Select(r => mapping.MapCampaign(r.Id, r.Name, r.Type, r.Status, r.Config)).ToList();
        return (
            [.. mapped.Where(c => !c.Rejected).Select(c => new CampaignChanged
            {
                EventId = Guid.NewGuid(),
                Id = c.Id,
                Name = c.Name,
                Type = c.Type,
                Status = c.Status,
                Config = c.Config,
                Version = version,
                OccurredAt = at,
            })],
            [.. mapped.Where(c => c.Rejected)]);
    }

    /// <summary>
    /// Reads the contacts table in pages of <paramref name="pageSize"/> rows through a cursor over one
    /// sequential scan; each page is folded with <paramref name="version"/> and passed to <paramref name="page"/>.
    /// Not keyset pages: on a random key (uuid) PostgreSQL answered each "WHERE id &gt; $1 ORDER BY id
    /// LIMIT n" with a scan and sort of the whole table, a hundred times for a million rows (docs/adr/0004).
    /// </summary>
    public async Task Contacts(NpgsqlConnection connection, int pageSize, long version, DateTimeOffset at, Func<FoldedChanges, Task> page, CancellationToken cancel)
    {
        const string Cursor = "campaign_events_snapshot";
        await connection.ExecuteAsync(new CommandDefinition($"DECLARE {Cursor} NO SCROLL CURSOR FOR SELECT {mapping.ContactSelectList("t")} FROM {mapping.Contacts.Sql} t", cancellationToken: cancel));
        while (true)
        {
            await using var command = new NpgsqlCommand($"FETCH FORWARD {pageSize} FROM {Cursor}", connection);
            var changes = new List<ContactChanged>(pageSize);
            var rejected = new List<MappedContact>();
            var read = 0;
            await using (var reader = await command.ExecuteReaderAsync(cancel))
            {
                while (await reader.ReadAsync(cancel))
                {
                    read++;
                    var campaign = reader.IsDBNull(0) ? null : reader.GetString(0);
                    var phone = reader.IsDBNull(1) ? null : reader.GetString(1);
                    var id = reader.IsDBNull(2) ? null : reader.GetString(2);
                    var metadata = reader.IsDBNull(3) ? null : reader.GetString(3);
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
                break;
            }
        }

        await connection.ExecuteAsync(new CommandDefinition($"CLOSE {Cursor}", cancellationToken: cancel));
    }
}
