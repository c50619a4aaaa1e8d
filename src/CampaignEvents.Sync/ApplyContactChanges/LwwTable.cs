namespace CampaignEvents.Sync.ApplyContactChanges;

/// <summary>
/// The apply rules without a database: rows and tombstones keyed by (campaign, phone), exactly as
/// the SQL in <see cref="ContactStore"/> applies them. The property tests use it as the oracle's
/// executable twin; <see cref="Collapse"/> is what the consumer does to a batch before writing.
/// </summary>
internal sealed class LwwTable
{
    readonly Dictionary<(Guid, string), (long Version, string Metadata)> rows = [];
    readonly Dictionary<(Guid, string), long> tombstones = [];

    public IReadOnlyDictionary<(Guid, string), (long Version, string Metadata)> Rows => rows;

    public IReadOnlyDictionary<(Guid, string), long> Tombstones => tombstones;

    public void Apply(ContactChange change)
    {
        var key = change.Key;
        if (change.IsDelete)
        {
            // a delete removes a row of its version or older, and its tombstone keeps the highest delete
            if (rows.TryGetValue(key, out var row) && row.Version <= change.Version)
            {
                rows.Remove(key);
            }

            if (!tombstones.TryGetValue(key, out var tombstone) || tombstone < change.Version)
            {
                tombstones[key] = change.Version;
            }

            return;
        }

        // a late, older change must not revive a deleted contact (docs/adr/0003)
        if (tombstones.TryGetValue(key, out var deleted) && deleted >= change.Version)
        {
            return;
        }

        if (!rows.TryGetValue(key, out var existing) || existing.Version < change.Version)
        {
            rows[key] = (change.Version, change.Metadata!);
        }
    }

    public void ApplyAll(IEnumerable<ContactChange> changes)
    {
        foreach (var change in changes)
        {
            Apply(change);
        }
    }

    /// <summary>
    /// The newest event of each key (ties as in <see cref="ContactChange.Beats"/>). Applying the
    /// result gives the same table as applying every event: a key's final state depends only on
    /// its newest change and its newest delete, and the newest of the two decides.
    /// </summary>
    public static List<ContactChange> Collapse(IEnumerable<ContactChange> changes)
    {
        var newest = new Dictionary<(Guid, string), ContactChange>();
        foreach (var change in changes)
        {
            if (!newest.TryGetValue(change.Key, out var kept) || change.Beats(kept))
            {
                newest[change.Key] = change;
            }
        }

        return [.. newest.Values];
    }

    /// <summary>The expected table: for each key its newest event, present when that is a change.</summary>
    public static Dictionary<(Guid, string), string> Oracle(IEnumerable<ContactChange> history) =>
        Collapse(history).Where(c => !c.IsDelete).ToDictionary(c => c.Key, c => c.Metadata!);
}
