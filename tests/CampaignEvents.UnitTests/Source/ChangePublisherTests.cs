using CampaignEvents.Contracts;
using CampaignEvents.Source.Capture;
using CampaignEvents.Source.Publishing;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace CampaignEvents.UnitTests.Source;

/// <summary>
/// The slot may only advance below what the broker confirmed: whatever order confirms arrive
/// in, the confirmed position never passes a transaction with an unconfirmed change.
/// </summary>
public sealed class ChangePublisherTests
{
    /// <summary>A sink whose publishes complete only when the test says so (the broker's confirms).</summary>
    sealed class ManualSink : IEventSink
    {
        public List<(TaskCompletionSource Confirm, ContactChangeBatch? Batch)> Sent { get; } = [];

        public Task Publish(CampaignChanged campaign, CancellationToken cancel) => Add(null);

        public Task Publish(ContactChangeBatch batch, CancellationToken cancel) => Add(batch);

        Task Add(ContactChangeBatch? batch)
        {
            var confirm = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Sent.Add((confirm, batch));
            return confirm.Task;
        }
    }

    static FoldedChanges Transaction(ulong endLsn, int changes) => new(
        endLsn,
        [],
        [.. Enumerable.Range(0, changes).Select(i => new ContactChange.Upsert(new ContactChanged
        {
            EventId = Guid.NewGuid(),
            CampaignId = Guid.Empty,
            PhoneNumber = $"+1415555{endLsn:D2}{i:D2}",
            Metadata = default,
            Version = (long)endLsn,
            OccurredAt = DateTimeOffset.UnixEpoch,
        }))],
        [],
        []);

    [Fact]
    public void The_confirmed_position_never_passes_an_unconfirmed_change()
    {
        var property = Prop.ForAll(
            Gen.Choose(0, 5).ArrayOf().Select(a => a.Take(30).ToArray()).ToArbitrary(),
            Gen.Choose(1, 4).ToArbitrary(),
            Gen.Choose(0, int.MaxValue).ToArbitrary(),
            (sizes, batchSize, seed) =>
            {
                var sink = new ManualSink();
                var publisher = new ChangePublisher(sink, batchSize, maxInFlight: 1000, TimeSpan.FromMinutes(1));
                var random = new Random(seed);
                // which transaction (end LSN) each sent batch carries changes of
                var lsnOfPhone = new Dictionary<string, ulong>();
                for (var i = 0; i < sizes.Length; i++)
                {
                    var tx = Transaction((ulong)(i + 1) * 10, sizes[i]);
                    foreach (var c in tx.Contacts)
                    {
                        lsnOfPhone[c.Key.PhoneNumber] = tx.EndLsn;
                    }

                    publisher.Add(tx, CancellationToken.None).GetAwaiter().GetResult();
                    if (random.Next(3) == 0)
                    {
                        publisher.Flush(CancellationToken.None).GetAwaiter().GetResult();
                    }

                    // confirm a random outstanding publish, then check the invariant
                    var open = sink.Sent.Where(s => !s.Confirm.Task.IsCompleted).ToList();
                    if (open.Count > 0)
                    {
                        open[random.Next(open.Count)].Confirm.SetResult();
                    }

                    var confirmed = publisher.ConfirmedLsn;
                    var unconfirmedLsns = sink.Sent
                        .Where(s => !s.Confirm.Task.IsCompleted && s.Batch is not null)
                        .SelectMany(s => s.Batch!.Changes.Select(c => lsnOfPhone[c.PhoneNumber]));
                    if (unconfirmedLsns.Any(lsn => lsn <= confirmed))
                    {
                        return false;
                    }
                }

                publisher.Flush(CancellationToken.None).GetAwaiter().GetResult();
                foreach (var (confirm, _) in sink.Sent.Where(s => !s.Confirm.Task.IsCompleted))
                {
                    confirm.SetResult();
                }

                // with everything confirmed and nothing buffered, the slot may reach the last transaction
                return sizes.Length == 0 || publisher.ConfirmedLsn == (ulong)sizes.Length * 10;
            });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300), property);
    }

    [Fact]
    public async Task A_publish_the_broker_never_confirms_fails_the_publisher_instead_of_stalling_it()
    {
        // a confirm lost with a dropped connection (rabbitmq-dotnet-client#1930) must not hold the slot for ever
        var sink = new ManualSink();
        var publisher = new ChangePublisher(sink, batchSize: 1, maxInFlight: 10, TimeSpan.FromMilliseconds(200));
        await publisher.Add(Transaction(10, 1), CancellationToken.None);
        await publisher.Add(Transaction(20, 1), CancellationToken.None);
        sink.Sent[1].Confirm.SetResult();

        var failure = await Assert.ThrowsAsync<TimeoutException>(() => publisher.Drain(CancellationToken.None));
        Assert.Contains("Source__ConfirmTimeout", failure.Message, StringComparison.Ordinal);
        Assert.Throws<TimeoutException>(() => publisher.ConfirmedLsn);
    }

    [Fact]
    public async Task A_batch_carries_each_key_once_with_its_newest_version()
    {
        var sink = new ManualSink();
        var publisher = new ChangePublisher(sink, batchSize: 100, maxInFlight: 10, TimeSpan.FromMinutes(1));
        await publisher.Add(Transaction(10, 1), CancellationToken.None);
        await publisher.Add(Transaction(10, 1) with { EndLsn = 20 }, CancellationToken.None);
        var delete = new ContactDeleted { EventId = Guid.NewGuid(), CampaignId = Guid.Empty, PhoneNumber = "+14155551000", Version = 30, OccurredAt = DateTimeOffset.UnixEpoch };
        await publisher.Add(new FoldedChanges(30, [], [new ContactChange.Delete(delete)], [], []), CancellationToken.None);
        await publisher.Flush(CancellationToken.None);

        var batch = Assert.Single(sink.Sent).Batch!;
        Assert.Empty(batch.Changes);
        Assert.Equal(30, Assert.Single(batch.Deletes).Version);
    }
    [Fact]
    public async Task A_batch_is_cut_by_its_estimated_bytes_as_well_as_by_its_count()
    {
        // ten changes of about 10 kB each, a budget of 32 kB: batches of three, never one above the budget
        var sink = new ManualSink();
        var big = System.Text.Json.JsonDocument.Parse($$"""{"note":"{{new string('x', 10_000)}}"}""").RootElement.Clone();
        var changes = Enumerable.Range(0, 10).Select(i => new ContactChanged
        {
            EventId = Guid.NewGuid(),
            CampaignId = Guid.Empty,
            PhoneNumber = $"+141555510{i:D2}",
            Metadata = big,
            Version = 10,
            OccurredAt = DateTimeOffset.UnixEpoch,
        }).ToList();
        var publisher = new ChangePublisher(sink, batchSize: 2_000, maxInFlight: 100, TimeSpan.FromMinutes(1), maxBatchBytes: 32 * 1024);
        await publisher.Add(new FoldedChanges(10, [], [.. changes.Select(c => new ContactChange.Upsert(c))], [], []), CancellationToken.None);
        await publisher.Flush(CancellationToken.None);

        var batches = sink.Sent.Select(s => s.Batch!).ToList();
        Assert.Equal([3, 3, 3, 1], batches.Select(b => b.Changes.Count));
        Assert.All(batches, b => Assert.True(b.Changes.Sum(ChangePublisher.EstimatedBytes) <= 32 * 1024));
        
        // the estimate covers the changes' JSON; the batch itself adds its id and two array names
        Assert.All(batches, b => Assert.True(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(b).Length <= b.Changes.Sum(ChangePublisher.EstimatedBytes) + 100));
    }
}
