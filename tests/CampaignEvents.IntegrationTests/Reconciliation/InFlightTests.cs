using System.Text.Json.Nodes;
using System.Threading.Channels;
using CampaignEvents.Contracts.Reconciliation;
using CampaignEvents.TestSupport.Generators;
using CampaignEvents.TestSupport.Stack;
using Dapper;
using FsCheck.Fluent;
using Xunit;
using CampaignEvents.Infrastructure.Versions;

namespace CampaignEvents.IntegrationTests.Reconciliation;

/// <summary>
/// Changes in flight are not drift: while a stream of source changes reaches the local database a
/// little later (as through the broker), repeated reconciliations report nothing. The pipeline is
/// simulated here (each source change applied locally some operations later, with its source
/// version), so the test needs neither the adapter nor the sync consumer.
/// </summary>
public sealed class InFlightTests(SourceAndReconcileStack stack) : IClassFixture<SourceAndReconcileStack>
{
    sealed record Change(string Phone, string? Metadata, long Version);

    [Fact]
    public async Task While_changes_stream_repeated_reconciliations_report_no_drift()
    {
        var cancel = TestContext.Current.CancellationToken;
        var campaign = await stack.CreateCampaign();
        var phones = ContactGenerators.E164.Sample(6000, 11).Distinct().ToList();
        var initial = phones.Take(2000).Select((p, i) => (p, new JsonObject { ["n"] = i })).ToArray();
        await stack.WriteSource(campaign, initial);
        await stack.WriteLocal(campaign, initial);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        // bounded: the writer waits when the "pipeline" falls behind, as a source adapter's confirm window does
        var changes = Channel.CreateBounded<Change>(50);
        var written = 0;
        var writer = Task.Run(() => WriteSourceChanges(campaign, phones, changes.Writer, () => written++, stop.Token), cancel);
        var applier = Task.Run(() => ApplyLocallyLater(campaign, changes.Reader, cancel), cancel);

        var reports = new List<CampaignReconciled>();
        try
        {
            for (var i = 0; i < 5; i++)
            {
                reports.Add(await stack.Reconcile(campaign));
            }
        }
        finally
        {
            await stop.CancelAsync();
            await writer;
            await applier;
        }

        var final = await stack.Reconcile(campaign);
        Assert.All(reports, r => Assert.True(r.Outcome == ReconciliationOutcomes.Consistent, $"{r.Outcome}: {string.Join(", ", r.Drift.Select(d => $"{d.Kind} {d.PhoneNumber} local v{d.LocalVersion} source v{d.SourceVersion}"))}"));
        Assert.True(written > 100, $"only {written} source changes streamed");
        Assert.True(reports.Sum(r => r.SettledInFlight + r.StillChanging) > 0, "no reconciliation saw a change in flight: the test did not exercise the settle check");
        Assert.Equal(ReconciliationOutcomes.Consistent, final.Outcome);
        Assert.Equal(0, final.SettledInFlight);
    }

    /// <summary>Updates, deletes and inserts at the source as fast as it goes, each with its version (commit position).</summary>
    async Task WriteSourceChanges(Guid campaign, List<string> phones, ChannelWriter<Change> output, Action counted, CancellationToken stop)
    {
        var random = new Random(5);
        var present = phones.Take(2000).ToList();
        var absent = phones.Skip(2000).ToList();
        await using var connection = await stack.Source.DataSource.OpenConnectionAsync(CancellationToken.None);
        while (!stop.IsCancellationRequested)
        {
            var roll = random.Next(100);
            string phone;
            string? metadata;
            if (roll < 70 || absent.Count == 0)
            {
                phone = present[random.Next(present.Count)];
                metadata = new JsonObject { ["v"] = random.Next(), ["s"] = "ü✓" }.ToJsonString();
                await connection.ExecuteAsync("UPDATE contacts SET metadata = @metadata::jsonb WHERE campaign_id = @campaign AND phone_number = @phone", new { campaign, phone, metadata });
            }
            else if (roll < 85)
            {
                var at = random.Next(present.Count);
                phone = present[at];
                present.RemoveAt(at);
                absent.Add(phone);
                metadata = null;
                await connection.ExecuteAsync("DELETE FROM contacts WHERE campaign_id = @campaign AND phone_number = @phone", new { campaign, phone });
            }
            else
            {
                var at = random.Next(absent.Count);
                phone = absent[at];
                absent.RemoveAt(at);
                present.Add(phone);
                metadata = new JsonObject { ["new"] = true }.ToJsonString();
                await connection.ExecuteAsync("INSERT INTO contacts (campaign_id, phone_number, metadata) VALUES (@campaign, @phone, @metadata::jsonb)", new { campaign, phone, metadata });
            }

            // the statement committed before this position: a version that orders like the adapter's
            var lsn = await connection.ExecuteScalarAsync<long>("SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint");
            await output.WriteAsync(new Change(phone, metadata, SourceVersion.ForChange((ulong)lsn, 1)), CancellationToken.None);
            counted();
        }

        output.Complete();
    }

    /// <summary>
    /// Applies each change locally once 5–60 later changes exist, or once the stream has paused for
    /// 50 ms: the broker's lag, which is bounded in time as well as in messages. Without the pause
    /// rule a writer starved on a loaded machine left its last changes unapplied for longer than
    /// the settle window, which is drift by definition, not a change in flight.
    /// </summary>
    async Task ApplyLocallyLater(Guid campaign, ChannelReader<Change> input, CancellationToken cancel)
    {
        var random = new Random(6);
        var waiting = new Queue<Change>();
        var lag = random.Next(5, 60);
        await using var connection = await stack.Local.DataSource.OpenConnectionAsync(cancel);
        while (true)
        {
            using var pause = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            pause.CancelAfter(TimeSpan.FromMilliseconds(50));
            bool more;
            try
            {
                more = await input.WaitToReadAsync(pause.Token);
            }
            catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
            {
                while (waiting.Count > 0)
                {
                    await Apply(connection, campaign, waiting.Dequeue());
                }

                continue;
            }

            if (!more)
            {
                break;
            }

            while (input.TryRead(out var change))
            {
                waiting.Enqueue(change);
                while (waiting.Count > lag)
                {
                    await Apply(connection, campaign, waiting.Dequeue());
                    lag = random.Next(5, 60);
                }
            }
        }

        while (waiting.Count > 0)
        {
            await Apply(connection, campaign, waiting.Dequeue());
        }
    }

    static Task Apply(Npgsql.NpgsqlConnection connection, Guid campaign, Change change) =>
        change.Metadata is null
            ? connection.ExecuteAsync("DELETE FROM contacts WHERE campaign_id = @campaign AND phone_number = @Phone", new { campaign, change.Phone })
            : connection.ExecuteAsync(
                """
                INSERT INTO contacts (campaign_id, phone_number, metadata, version) VALUES (@campaign, @Phone, @Metadata::jsonb, @Version)
                ON CONFLICT (campaign_id, phone_number) DO UPDATE SET metadata = excluded.metadata, version = excluded.version
                """,
                new { campaign, change.Phone, change.Metadata, change.Version });
}

/// <summary>A broker where no source side answers.</summary>
public sealed class SilentSourceTests(SourceAndReconcileStack stack) : IClassFixture<SourceAndReconcileStack>, IAsyncLifetime
{
    readonly IsolatedVhost silent = new();

    public ValueTask InitializeAsync() => silent.InitializeAsync();

    public ValueTask DisposeAsync() => silent.DisposeAsync();

    [Fact]
    public async Task When_the_source_side_does_not_answer_within_the_timeout_reconcile_says_so_in_one_line_exits_1_and_changes_nothing()
    {
        var campaign = await stack.CreateCampaign();
        await stack.WriteLocal(campaign, [("+14155550123", new JsonObject())]);
        var overrides = new Dictionary<string, string?>(stack.Overrides) { ["RabbitMq:VirtualHost"] = silent.Name };

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var (exit, output, error) = await stack.Command(campaign, timeoutSeconds: 1, overrides: overrides);

        Assert.Equal(1, exit);
        Assert.Equal(
            $"error: campaign {campaign}: the source side did not answer within 1 s (is `campaign-events run` with role source running on this broker?)",
            error.Trim());
        Assert.Equal("", output);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"took {watch.Elapsed}");
        Assert.Equal(0, await stack.Runs(campaign));
        Assert.Single(await stack.LocalContacts(campaign));
    }
}
