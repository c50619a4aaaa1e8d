using CampaignEvents.Sync.ApplyContactChanges;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace CampaignEvents.UnitTests.Sync;

public sealed class LwwTableTests
{
    /// <summary>
    /// A history over a few keys: each event has its own version per key (as the source's commit
    /// order guarantees), changes and deletes mixed; then duplicated and shuffled.
    /// </summary>
    internal static Gen<(List<ContactChange> History, List<ContactChange> Delivered)> Histories(Guid[] campaigns) =>
        from count in Gen.Choose(1, 40)
        from events in Gen.ListOf(
            from campaign in Gen.Elements(campaigns)
            from phone in Gen.Elements("+12015550100", "+12015550101", "+447400123456", "+33612345678")
            from delete in Gen.Frequency((3, Gen.Constant(false)), (1, Gen.Constant(true)))
            from n in Gen.Choose(0, 999)
            select (campaign, phone, delete, n), count)
        from duplicates in Gen.ListOf(Gen.Choose(0, count - 1), count / 2)
        from seed in Gen.Choose(0, int.MaxValue)
        select Build(events, duplicates, seed);

    static (List<ContactChange>, List<ContactChange>) Build(IEnumerable<(Guid Campaign, string Phone, bool Delete, int N)> events, IEnumerable<int> duplicates, int seed)
    {
        var version = 0L;
        var history = events.Select(e => e.Delete
            ? ContactChange.Delete(e.Campaign, e.Phone, ++version)
            : ContactChange.Upsert(e.Campaign, e.Phone, ++version, $$"""{"n":{{e.N}},"v":{{version}}}""")).ToList();
        var delivered = history.Concat(duplicates.Select(i => history[i])).ToList();
        var random = new Random(seed);
        random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(delivered));
        return (history, delivered);
    }

    [Fact]
    public void Any_history_duplicated_and_shuffled_gives_the_newest_version_of_each_key()
    {
        var property = Prop.ForAll(Histories([Guid.NewGuid(), Guid.NewGuid()]).ToArbitrary(), generated =>
        {
            var (history, delivered) = generated;
            var table = new LwwTable();
            table.ApplyAll(delivered);
            var collapsedInBatches = new LwwTable();
            foreach (var batch in delivered.Chunk(7))
            {
                collapsedInBatches.ApplyAll(LwwTable.Collapse(batch));
            }

            var oracle = LwwTable.Oracle(history);
            return Same(oracle, table) && Same(oracle, collapsedInBatches);
        });

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(100), property);
    }

    static bool Same(Dictionary<(Guid, string), string> oracle, LwwTable table) =>
        oracle.Count == table.Rows.Count && oracle.All(o => table.Rows.TryGetValue(o.Key, out var row) && row.Metadata == o.Value);

    [Fact]
    public void At_equal_versions_a_delete_wins_over_a_change_in_either_order()
    {
        var campaign = Guid.NewGuid();
        var change = ContactChange.Upsert(campaign, "+12015550100", 5, "{}");
        var delete = ContactChange.Delete(campaign, "+12015550100", 5);
        var first = new LwwTable();
        first.ApplyAll([change, delete]);
        var second = new LwwTable();
        second.ApplyAll([delete, change]);
        Assert.Empty(first.Rows);
        Assert.Empty(second.Rows);
        Assert.Equal([delete], LwwTable.Collapse([change, delete]));
    }

    [Fact]
    public void A_late_older_change_does_not_revive_a_deleted_contact()
    {
        var campaign = Guid.NewGuid();
        var table = new LwwTable();
        table.ApplyAll([ContactChange.Delete(campaign, "+12015550100", 9), ContactChange.Upsert(campaign, "+12015550100", 8, "{}")]);
        Assert.Empty(table.Rows);
        Assert.Equal(9, table.Tombstones[(campaign, "+12015550100")]);
    }
}
