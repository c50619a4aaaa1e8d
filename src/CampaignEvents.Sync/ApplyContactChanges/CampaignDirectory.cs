using System.Collections.Concurrent;
using CampaignEvents.Infrastructure.Configuration;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CampaignEvents.Sync.ApplyContactChanges;

/// <summary>
/// Which campaigns exist locally. Campaigns are never deleted by the pipeline, so a campaign
/// once seen is remembered; only unknown ids cost a query.
/// </summary>
internal sealed class CampaignDirectory([FromKeyedServices(DatabaseSettings.Contacts)] NpgsqlDataSource dataSource)
{
    const string SelectExisting = "SELECT id FROM campaigns WHERE id = ANY(@ids)";

    readonly ConcurrentDictionary<Guid, bool> known = new();

    // one lookup at a time: a full prefetch of messages of a campaign not seen yet would otherwise
    // open a connection each (up to the pool's limit, each with a SCRAM handshake) to ask the same question
    readonly SemaphoreSlim lookup = new(1, 1);

    /// <summary>The ids among <paramref name="ids"/> that are not in the local database.</summary>
    public async Task<IReadOnlyList<Guid>> Missing(IReadOnlyCollection<Guid> ids, CancellationToken cancel)
    {
        if (AllKnown(ids))
        {
            return [];
        }

        await lookup.WaitAsync(cancel);
        try
        {
            var unknown = ids.Where(id => !known.ContainsKey(id)).Distinct().ToArray();
            if (unknown.Length == 0)
            {
                return [];
            }

            await using var connection = await dataSource.OpenConnectionAsync(cancel);
            var found = await connection.QueryAsync<Guid>(new CommandDefinition(SelectExisting, new { ids = unknown }, cancellationToken: cancel));
            foreach (var id in found)
            {
                known[id] = true;
            }

            return [.. unknown.Where(id => !known.ContainsKey(id))];
        }
        finally
        {
            lookup.Release();
        }
    }

    bool AllKnown(IReadOnlyCollection<Guid> ids)
    {
        foreach (var id in ids)
        {
            if (!known.ContainsKey(id))
            {
                return false;
            }
        }

        return true;
    }
}
