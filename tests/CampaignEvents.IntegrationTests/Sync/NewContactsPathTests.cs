using CampaignEvents.Infrastructure.Database;
using CampaignEvents.IntegrationTests.Identity;
using CampaignEvents.Sync.ApplyContactChanges;
using CampaignEvents.TestSupport.Stack;
using Dapper;
using FsCheck;
using FsCheck.Fluent;
using Npgsql;
using Xunit;
using static CampaignEvents.IntegrationTests.Sync.SyncHarness;

namespace CampaignEvents.IntegrationTests.Sync;

/// <summary>
/// The new-contacts path of <see cref="ContactStore"/> (a binary COPY for large batches of changes
/// of contacts not there yet, docs/adr/0010) against the real PostgreSQL: it must leave exactly the
/// rows, versions and tombstones the upsert leaves, under duplicates, reordering and concurrent
/// writers, and fall back to the upsert whenever one of its conditions does not hold.
/// </summary>
public sealed class NewContactsPathTests(IsolatedDatabase database, GrantedLocalDatabase granted)
    : IClassFixture<IsolatedDatabase>, IClassFixture<GrantedLocalDatabase>
{
    readonly ContactStore store = new(database.DataSource);

    static string Phone(int n) => $"+1201555{n:D4}";

    static string Metadata(int n, long version) => $$"""{"n":{{n}},"v":{{version}},"name":"Zoë 名前 🎉"}""";

    static List<ContactChange> NewContacts(Guid campaign, int count, long version, int from = 0) =>
        [.. Enumerable.Range(from, count).Select(n => ContactChange.Upsert(campaign, Phone(n), version, Metadata(n, version)))];

    async Task<Dictionary<(Guid, string), (long Version, string Metadata)>> Rows(params Guid[] campaigns)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync();
        var rows = await connection.QueryAsync<(Guid CampaignId, string PhoneNumber, long Version, string Metadata)>(
            "SELECT campaign_id, phone_number, version, metadata::text FROM contacts WHERE campaign_id = ANY(@campaigns)", new { campaigns });
        return rows.ToDictionary(r => (r.CampaignId, r.PhoneNumber), r => (r.Version, r.Metadata));
    }

    async Task<Dictionary<(Guid, string), long>> Tombstones(params Guid[] campaigns)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync();
        var rows = await connection.QueryAsync<(Guid CampaignId, string PhoneNumber, long Version)>(
            "SELECT campaign_id, phone_number, version FROM contact_tombstones WHERE campaign_id = ANY(@campaigns)", new { campaigns });
        return rows.ToDictionary(r => (r.CampaignId, r.PhoneNumber), r => r.Version);
    }

    /// <summary>The table and the tombstones are exactly the model's (<see cref="LwwTable"/> mirrors the upsert's SQL), metadata compared as jsonb prints it.</summary>
    async Task AssertSameAs(LwwTable model, params Guid[] campaigns)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync();
        var expectedRows = new Dictionary<(Guid, string), (long, string)>();
        foreach (var (key, row) in model.Rows)
        {
            expectedRows[key] = (row.Version, await connection.ExecuteScalarAsync<string>("SELECT @m::jsonb::text", new { m = row.Metadata }) ?? "");
        }

        var rows = await Rows(campaigns);
        Assert.Equal(expectedRows.Count, rows.Count);
        foreach (var (key, row) in expectedRows)
        {
            Assert.True(rows.TryGetValue(key, out var actual), $"missing {key}");
            Assert.Equal(row, actual);
        }

        Assert.Equal(model.Tombstones.OrderBy(t => t.Key).ToList(), (await Tombstones(campaigns)).OrderBy(t => t.Key).ToList());
    }

    [Fact]
    public async Task A_large_batch_of_new_contacts_is_copied_with_its_versions_and_metadata()
    {
        var campaign = await InsertCampaign(database.DataSource);
        var batch = NewContacts(campaign, 1200, version: 7);

        var result = await store.Apply(batch, CancellationToken.None);

        Assert.True(result.Copied);
        Assert.Equal(new ApplyResult(1200, 0, 0, 1200) { Copied = true }, result);
        var model = new LwwTable();
        model.ApplyAll(batch);
        await AssertSameAs(model, campaign);
        // the upsert's timestamps: the transaction's now(), the same for both columns
        Assert.Equal(1, await Count(database.DataSource, "SELECT count(DISTINCT applied_at) FROM contacts WHERE campaign_id = @campaign AND applied_at = updated_at", new { campaign }));
    }

    [Fact]
    public async Task A_batch_with_contacts_already_there_falls_back_to_the_upsert_and_keeps_the_newer_versions()
    {
        var campaign = await InsertCampaign(database.DataSource);
        var model = new LwwTable();
        // 20 contacts there already, none of them among the keys looked up before the COPY (the
        // first, the last and six between): 10 newer than the batch, 10 older. The COPY fails on them.
        var existing = NewContacts(campaign, 10, version: 50, from: 10).Concat(NewContacts(campaign, 10, version: 2, from: 20)).ToList();
        Assert.False((await store.Apply(existing, CancellationToken.None)).Copied);
        model.ApplyAll(existing);

        var batch = NewContacts(campaign, 800, version: 9);
        var result = await store.Apply(batch, CancellationToken.None);
        model.ApplyAll(batch);

        Assert.False(result.Copied);
        Assert.Equal(790, result.Upserted);
        await AssertSameAs(model, campaign);
    }

    [Fact]
    public async Task A_large_batch_of_updates_takes_the_upsert_and_keeps_last_writer_wins()
    {
        var campaign = await InsertCampaign(database.DataSource);
        var model = new LwwTable();
        var first = NewContacts(campaign, 900, version: 5);
        Assert.True((await store.Apply(first, CancellationToken.None)).Copied);
        model.ApplyAll(first);

        // the same contacts again: half newer, half older (a snapshot read twice, streaming updates)
        var again = first.Select((c, i) => i % 2 == 0
            ? ContactChange.Upsert(campaign, c.PhoneNumber, 6, Metadata(i, 6))
            : ContactChange.Upsert(campaign, c.PhoneNumber, 4, Metadata(i, 4))).ToList();
        var result = await store.Apply(again, CancellationToken.None);
        model.ApplyAll(again);

        Assert.False(result.Copied);
        Assert.Equal(450, result.Upserted);
        await AssertSameAs(model, campaign);
    }

    [Fact]
    public async Task A_campaign_with_tombstones_takes_the_upsert_so_a_late_change_does_not_revive_a_deleted_contact()
    {
        var campaign = await InsertCampaign(database.DataSource);
        var model = new LwwTable();
        // deleted at version 30 (never there locally), and one deleted at version 3
        var deletes = new List<ContactChange> { ContactChange.Delete(campaign, Phone(5), 30), ContactChange.Delete(campaign, Phone(6), 3) };
        await store.Apply(deletes, CancellationToken.None);
        model.ApplyAll(deletes);

        // a snapshot-sized batch that holds an older change of the first and a newer one of the second
        var batch = NewContacts(campaign, 1000, version: 10);
        var result = await store.Apply(batch, CancellationToken.None);
        model.ApplyAll(batch);

        Assert.False(result.Copied);
        Assert.Equal(999, result.Upserted);
        await AssertSameAs(model, campaign);
        Assert.DoesNotContain((campaign, Phone(5)), (await Rows(campaign)).Keys);
    }

    [Fact]
    public async Task A_batch_the_database_refuses_fails_with_the_upserts_reason()
    {
        // a campaign that is not there: the foreign key refuses the rows, whichever path tries them
        var batch = NewContacts(Guid.NewGuid(), 600, version: 1);

        var e = await Assert.ThrowsAsync<PostgresException>(() => store.Apply(batch, CancellationToken.None));

        Assert.Equal(PostgresErrorCodes.ForeignKeyViolation, e.SqlState);
        Assert.True(TransientFailures.IsCausedByMessage(e));
        Assert.Equal(0, await Count(database.DataSource, "SELECT count(*) FROM contacts WHERE campaign_id = @c", new { c = batch[0].CampaignId }));
    }

    [Fact]
    public async Task Concurrent_large_batches_of_the_same_new_contacts_leave_the_highest_version_of_each()
    {
        var campaign = await InsertCampaign(database.DataSource);
        var model = new LwwTable();
        // four writers (two processes with two batches each) deliver overlapping snapshots of one campaign, twice
        var batches = Enumerable.Range(0, 8)
            .Select(i => NewContacts(campaign, 700, version: 100 + (i * 7 % 5), from: i % 4 * 150))
            .ToList();
        var stores = new[] { store, new ContactStore(database.DataSource) };

        var results = await Task.WhenAll(batches.Select((b, i) => Task.Run(() => stores[i % 2].Apply(b, CancellationToken.None))));
        foreach (var b in batches)
        {
            model.ApplyAll(b);
        }

        await AssertSameAs(model, campaign);
        Assert.Contains(results, r => r.Copied);
    }

    /// <summary>
    /// A snapshot of two campaigns (the adapter's initial sync, as campaign 0 and 1 placeholders),
    /// then changes and deletes with higher versions; some events delivered twice; in order up to
    /// a point and shuffled after it; cut into batches of 1 to 1,800 changes.
    /// </summary>
    static Gen<(List<(int Campaign, int N, long Version, bool Delete)> Delivered, int[] Cuts)> Histories { get; } =
        from snapshot in Gen.Choose(300, 1200)
        from churn in Gen.ListOf(
            from campaign in Gen.Choose(0, 1)
            from n in Gen.Choose(0, 1300)
            from delete in Gen.Frequency((3, Gen.Constant(false)), (1, Gen.Constant(true)))
            select (campaign, n, delete), 300)
        from duplicates in Gen.Choose(0, 600)
        from cuts in Gen.ArrayOf(Gen.Choose(1, 1800), 6)
        from seed in Gen.Choose(0, int.MaxValue)
        select (Build(snapshot, churn, duplicates, seed), cuts);

    static List<(int, int, long, bool)> Build(int snapshot, IEnumerable<(int Campaign, int N, bool Delete)> churn, int duplicates, int seed)
    {
        var version = 1000L;
        var history = new[] { 0, 1 }.SelectMany(c => Enumerable.Range(0, snapshot).Select(n => (c, n, version, false))).ToList();
        foreach (var (campaign, n, delete) in churn)
        {
            history.Add((campaign, n, ++version, delete));
        }

        var random = new Random(seed);
        var delivered = history.Concat(Enumerable.Range(0, duplicates).Select(_ => history[random.Next(history.Count)])).ToList();
        random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(delivered)[random.Next(delivered.Count)..]);
        return delivered;
    }

    [Fact]
    public void Any_history_delivered_in_large_batches_with_duplicates_reordering_and_two_writers_leaves_the_upserts_rows_and_tombstones()
    {
        var copied = 0;
        var upserted = 0;
        var property = Prop.ForAll(Histories.ToArbitrary(), generated =>
        {
            var campaigns = new[] { InsertCampaign(database.DataSource).GetAwaiter().GetResult(), InsertCampaign(database.DataSource).GetAwaiter().GetResult() };
            var delivered = generated.Delivered
                .Select(e => e.Delete
                    ? ContactChange.Delete(campaigns[e.Campaign], Phone(e.N), e.Version)
                    : ContactChange.Upsert(campaigns[e.Campaign], Phone(e.N), e.Version, Metadata(e.N, e.Version)))
                .ToList();
            var batches = new List<List<ContactChange>>();
            for (var at = 0; at < delivered.Count; at += batches[^1].Count)
            {
                batches.Add(delivered.Skip(at).Take(generated.Cuts[batches.Count % generated.Cuts.Length]).ToList());
            }

            // two writers at a time, as two consumer processes or two concurrent batches of one
            var second = new ContactStore(database.DataSource);
            foreach (var pair in batches.Chunk(2))
            {
                var results = Task.WhenAll(pair.Select((b, i) => Task.Run(() => (i == 0 ? store : second).Apply(LwwTable.Collapse(b), CancellationToken.None))))
                    .GetAwaiter().GetResult();
                copied += results.Count(r => r.Copied);
                upserted += results.Count(r => !r.Copied);
            }

            // what the upsert leaves: each batch collapsed (a delete overtaken by a newer change in
            // the same batch writes no tombstone), in any order
            var model = new LwwTable();
            foreach (var batch in batches)
            {
                model.ApplyAll(LwwTable.Collapse(batch));
            }

            AssertSameAs(model, campaigns).GetAwaiter().GetResult();
            // and Property 2: the newest event of each key, present when it is a change
            Assert.Equal(
                LwwTable.Oracle(delivered).Keys.Order().ToList(),
                model.Rows.Keys.Order().ToList());
            return true;
        });

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(15), property);
        // both paths were exercised, or the property proved nothing about the new one
        Assert.True(copied > 0 && upserted > 0, $"{copied} batches copied, {upserted} upserted");
    }

    [Fact]
    public async Task The_sync_role_may_take_the_new_contacts_path()
    {
        await using var dataSource = NpgsqlDataSource.Create(Identities.Login(granted.Connection, RoleGrants.Roles.Sync));
        var campaign = await InsertCampaign(dataSource);
        var result = await new ContactStore(dataSource).Apply(NewContacts(campaign, 600, version: 1), CancellationToken.None);

        Assert.True(result.Copied);
        Assert.Equal(600, result.Upserted);
    }
}
