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
internal sealed class SnapshotReader(SourceMapping mapping)
{
    /// <summary>Every campaign, mapped; the rows the mapping rejects are returned apart, to be reported.</summary>
    public async Task<FoldedChanges> Campaigns(NpgsqlConnection connection, long version, DateTimeOffset at, CancellationToken cancel)
    {
        var sql = $"SELECT {SourceMapping.CampaignSelectList} FROM {mapping.Campaigns.Sql} ORDER BY id";
        var rows = await connection.QueryAsync<(string Id, string? Name, string? Type, string? Status, string? Config)>(new CommandDefinition(sql, cancellationToken: cancel));
        var mapped = rows.Select(r => mapping.MapCampaign(r.Id, r.Name, r.Type, r.Status, r.Config)).ToList();
        return FoldedChanges.OfCampaigns(
            [.. mapped.Where(c => !c.Rejected).Select(c => SourceEvents.Campaign(c, version, at))],
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
            var rows = new ContactPage(pageSize);
            await using (var reader = await command.ExecuteReaderAsync(cancel))
            {
                while (await reader.ReadAsync(cancel))
                {
                    rows.Add(mapping.MapContact(reader), version, at);
                }
            }

            if (rows.Rows > 0)
            {
                await page(rows.Complete());
            }

            if (rows.Rows < pageSize)
            {
                break;
            }
        }

        await connection.ExecuteAsync(new CommandDefinition($"CLOSE {Cursor}", cancellationToken: cancel));
    }
}
