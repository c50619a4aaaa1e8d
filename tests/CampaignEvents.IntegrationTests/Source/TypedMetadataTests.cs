using System.Text.Json;
using CampaignEvents.Cli.Hosting;
using CampaignEvents.Contracts.Reconciliation;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.IntegrationTests.Pipeline;
using CampaignEvents.TestSupport;
using CampaignEvents.TestSupport.Stack;
using Dapper;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xunit;

namespace CampaignEvents.IntegrationTests.Source;

/// <summary>
/// Issue 17, item 1 (docs/adr/0013): metadata folded from typed columns (integer, numeric,
/// boolean, timestamp with time zone, text[], text, NULLs) keeps its JSON types on every path, so
/// a source synced through the pipeline reconciles consistent (before, every such row was reported
/// different for ever: the adapter published "42", the digest hashed 42), and one changed row is
/// exactly the drift. The source database defaults to another time zone and date style than the
/// adapter pins, so the test fails if any path renders in the server's defaults.
/// </summary>
public sealed class TypedMetadataTests(IsolatedVhost vhost) : IClassFixture<IsolatedVhost>
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    static readonly string[] Folded = ["note", "score", "amount", "vip", "seen", "tags"];

    /// <summary>What PostgreSQL itself makes of the folded columns (in UTC): the metadata every path must give.</summary>
    const string Expected = """
        SET TimeZone TO 'UTC';
        SELECT phone_number, jsonb_build_object('note', note, 'score', score, 'amount', amount, 'vip', vip, 'seen', seen, 'tags', tags)::text
        FROM contacts
        """;

    [Theory]
    [InlineData("Replication")]
    [InlineData("Polling")]
    public async Task Typed_folded_columns_sync_and_reconcile_consistent_and_one_changed_row_is_exactly_the_drift(string mode)
    {
        await using var world = await SourceWorld.Create(vhost, $"typed{mode}");
        world.Settings["Source:Mode"] = mode;
        world.Settings["Source:PollInterval"] = "00:00:00.100";
        world.Settings["Source:PollingLag"] = "00:00:00";
        world.Settings["Source:MetadataColumn"] = "";
        for (var i = 0; i < Folded.Length; i++)
        {
            world.Settings[$"Source:MetadataColumns:{i}"] = Folded[i];
        }

        var campaign = (await world.CreateCampaigns(1))[0];
        await using (var connection = await world.Source.OpenConnectionAsync())
        {
            // sessions of this database default to Kolkata time and day-month dates: the adapter must not
            await connection.ExecuteAsync($"ALTER DATABASE \"{world.SourceDb.Database}\" SET TimeZone = 'Asia/Kolkata'");
            await connection.ExecuteAsync($"ALTER DATABASE \"{world.SourceDb.Database}\" SET DateStyle = 'SQL, DMY'");
            await connection.ExecuteAsync("""
                ALTER TABLE contacts ADD COLUMN note text, ADD COLUMN score integer, ADD COLUMN amount numeric(10, 2),
                    ADD COLUMN vip boolean, ADD COLUMN seen timestamptz, ADD COLUMN tags text[]
                """);
            await Insert(connection, campaign, 0, 300);
        }

        NpgsqlConnection.ClearAllPools();
        using var host = await RoleHosts.Build(PipelineHost.AllRoles, world.Settings);
        await host.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            // after the snapshot (or the first polls), the stream: inserts and updates of every type
            await LocalEqualsSource(world, 300);
            await using (var connection = await world.Source.OpenConnectionAsync())
            {
                await Insert(connection, campaign, 300, 200);
                await connection.ExecuteAsync("""
                    UPDATE contacts SET score = score + 1000, vip = NOT vip, amount = amount * 3, seen = seen + interval '1 day 0.25 s',
                        tags = tags || ARRAY['upd"ated', NULL], note = NULL, updated_at = clock_timestamp()
                    WHERE phone_number LIKE '+1415300001%'
                    """);
            }

            var expected = await LocalEqualsSource(world, 500);

            // numbers stay numbers, booleans booleans, arrays arrays, timestamps in UTC, NULL null
            using (var one = JsonDocument.Parse(expected["+14153000003"]))
            {
                var metadata = one.RootElement;
                Assert.Equal(JsonValueKind.Number, metadata.GetProperty("score").ValueKind);
                Assert.Equal("3.75", metadata.GetProperty("amount").GetRawText());
                Assert.Equal(JsonValueKind.False, metadata.GetProperty("vip").ValueKind);
                Assert.Equal("2026-03-01T15:00:01.623456+00:00", metadata.GetProperty("seen").GetString());
                Assert.Equal("""["a", "b c", "x\"y", null]""", metadata.GetProperty("tags").GetRawText());
                Assert.Equal(JsonValueKind.Null, JsonDocument.Parse(expected["+14153000000"]).RootElement.GetProperty("score").ValueKind);
            }

            var consistent = await Reconcile(host, campaign);
            Assert.True(consistent.Outcome == ReconciliationOutcomes.Consistent, Describe(consistent));
            Assert.Equal(500, consistent.SourceContacts);
            Assert.Empty(consistent.RejectedAtSource);

            // one row changed behind the pipeline's back (as the adapter used to publish it: a number as a string)
            await using (var local = new NpgsqlConnection(world.LocalDb.ConnectionString))
            {
                await local.ExecuteAsync("UPDATE contacts SET metadata = jsonb_set(metadata, '{score}', to_jsonb((metadata->>'score')::text)) WHERE phone_number = '+14153000042'");
            }

            var drift = await Reconcile(host, campaign);
            Assert.True(drift.Outcome == ReconciliationOutcomes.Drift, Describe(drift));
            var key = Assert.Single(drift.Drift);
            Assert.Equal(("+14153000042", DriftKinds.Different), (key.PhoneNumber, key.Kind));
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>Rows n..n+count-1, with a NULL in every column now and then.</summary>
    static Task Insert(NpgsqlConnection connection, Guid campaign, int from, int count) =>
        connection.ExecuteAsync("""
            INSERT INTO contacts (campaign_id, phone_number, note, score, amount, vip, seen, tags)
            SELECT @campaign, '+1415' || (3000000 + i), 'Zoë ' || i,
                   CASE WHEN i % 10 <> 0 THEN i END,
                   CASE WHEN i % 11 <> 0 THEN i * 1.25 END,
                   CASE WHEN i % 12 <> 0 THEN i % 2 = 0 END,
                   CASE WHEN i % 13 <> 0 THEN timestamptz '2026-03-01 12:00:00.123456+00' + i * interval '1 hour 0.5 s' END,
                   CASE WHEN i % 14 <> 0 THEN ARRAY['a', 'b c', 'x"y', NULL] END
            FROM generate_series(@from, @from + @count - 1) AS i
            """, new { campaign, from, count });

    /// <summary>Waits until the local metadata equals, as jsonb text, what PostgreSQL builds from the source's columns; returns it.</summary>
    static async Task<Dictionary<string, string>> LocalEqualsSource(SourceWorld world, int rows)
    {
        Dictionary<string, string> expected = [];
        var last = "";
        await Eventually.Until(async () =>
        {
            await using (var source = await world.Source.OpenConnectionAsync())
            {
                expected = (await source.QueryAsync<(string Phone, string Metadata)>(Expected)).ToDictionary(r => r.Phone, r => r.Metadata);
            }

            await using var local = new NpgsqlConnection(world.LocalDb.ConnectionString);
            var actual = (await local.QueryAsync<(string Phone, string Metadata)>("SELECT phone_number, metadata::text FROM contacts")).ToDictionary(r => r.Phone, r => r.Metadata);
            var differing = expected.Where(e => !actual.TryGetValue(e.Key, out var a) || a != e.Value).ToList();
            last = $"{actual.Count} local rows, {differing.Count} differ; first: {string.Join(" | ", differing.Take(2).Select(d => $"{d.Key} source {d.Value} local {actual.GetValueOrDefault(d.Key)}"))}";
            return expected.Count == rows && actual.Count == rows && differing.Count == 0;
        }, Deadline, () => $"local metadata never matched the source's columns: {last}");
        return expected;
    }

    static async Task<CampaignReconciled> Reconcile(Microsoft.Extensions.Hosting.IHost host, Guid campaign)
    {
        var client = host.Services.GetRequiredService<IRequestClient<ReconcileCampaign>>();
        var response = await client.Ask<ReconcileCampaign, CampaignReconciled>(
            new ReconcileCampaign { CampaignId = campaign }, TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        return response.Message;
    }

    static string Describe(CampaignReconciled report) =>
        $"{report.Outcome} {report.Error}: {report.Drift.Count} drifted, {report.SettledInFlight} settled in flight, {report.StillChanging} still changing, {report.SourceContacts} at source, {report.LocalContacts} locally; " +
        string.Join(" | ", report.Drift.Take(3).Select(d => $"{d.PhoneNumber} {d.Kind} source {d.SourceMetadata} local {d.LocalMetadata}"));
}
