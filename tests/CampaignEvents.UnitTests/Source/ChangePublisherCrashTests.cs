using System.Text.Json;
using CampaignEvents.Contracts;
using CampaignEvents.Source.Capture;
using CampaignEvents.Source.Publishing;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace CampaignEvents.UnitTests.Source;

/// <summary>
/// Issue 12, item 4: the slot may only be told a position below which every change is in a publish
/// the broker confirmed. A crash at any moment restarts the stream after that position, so a change
/// at or below it that no confirmed publish carries is lost for good.
/// </summary>
public sealed class ChangePublisherCrashTests
{
    static readonly Guid[] CampaignIds = [Guid.Parse("00000000-0000-0000-0000-0000000000c1"), Guid.Parse("00000000-0000-0000-0000-0000000000c2")];
    static readonly string[] Phones = ["+14155550100", "+14155550101", "+14155550102", "+14155550103"];
    static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement.Clone();

    /// <summary>One thing the stream or the broker does next.</summary>
    public abstract record Step;

    /// <summary>A committed transaction; no campaigns and no items is a marker (heartbeat).</summary>
    public sealed record Transaction(int LsnGap, int[] Campaigns, (int Key, bool Delete)[] Items) : Step
    {
        public override string ToString() =>
            $"Tx(+{LsnGap}, campaigns [{string.Join(",", Campaigns)}], items [{string.Join(",", Items.Select(i => $"{(i.Delete ? "-" : "")}{i.Key}"))}])";
    }

    /// <summary>The stream went quiet: the partly filled batch goes out.</summary>
    public sealed record FlushStep : Step;

    /// <summary>The broker confirms one outstanding publish (the <c>Pick</c>-th, modulo how many there are).</summary>
    public sealed record ConfirmStep(int Pick) : Step;

    public sealed record Scenario(Step[] Steps, int BatchSize, int MaxInFlight, int CrashAfter, int[] ConfirmOrder)
    {
        public override string ToString() =>
            $"batch {BatchSize}, in flight {MaxInFlight}, crash after {CrashAfter}, confirm order [{string.Join(",", ConfirmOrder)}]: {string.Join(" ; ", Steps.Select(s => s.ToString()))}";
    }

    static readonly Gen<Step> Steps = Gen.Frequency(
        (4, from gap in Gen.Choose(1, 3)
            from campaigns in Gen.Frequency((3, Gen.Constant(Array.Empty<int>())), (1, Gen.Choose(0, CampaignIds.Length - 1).ArrayOf(1)), (1, Gen.Choose(0, CampaignIds.Length - 1).ArrayOf(2)))
            from count in Gen.Choose(0, 5)
            from items in Gen.ArrayOf(
                from key in Gen.Choose(0, (CampaignIds.Length * Phones.Length) - 1)
                from delete in Gen.Frequency((3, Gen.Constant(false)), (1, Gen.Constant(true)))
                select (key, delete),
                count)
            select (Step)new Transaction(gap, campaigns, items)),
        (1, Gen.Constant((Step)new FlushStep())),
        (3, Gen.Choose(0, 50).Select(pick => (Step)new ConfirmStep(pick))));

    static readonly Gen<Scenario> Scenarios =
        from length in Gen.Choose(0, 40)
        from steps in Gen.ArrayOf(Steps, length)
        from batchSize in Gen.Choose(1, 6)
        from maxInFlight in Gen.Choose(1, 6)
        from crash in Gen.Choose(0, length)
        from order in Gen.Choose(0, 50).ArrayOf(20)
        select new Scenario(steps, batchSize, maxInFlight, crash, order);

    [Fact]
    public void A_crash_at_any_moment_loses_no_change_below_the_confirmed_position()
    {
        var property = Prop.ForAll(Scenarios.ToArbitrary(), scenario => Task.Run(() => Run(scenario)).GetAwaiter().GetResult());
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(100), property);
    }

    /// <summary>The bug of issue 12 item 4, as the property first found it.</summary>
    [Fact]
    public async Task A_campaign_confirmed_before_the_batch_of_an_earlier_transaction_does_not_move_the_slot_past_it()
    {
        // a contact of the first transaction waits in the batch; the second transaction's campaign goes
        // out at once and the broker confirms it: the slot must not pass the waiting contact
        var scenario = new Scenario(
            [
                new Transaction(1, [], [(0, false)]),
                new Transaction(1, [0], []),
                new ConfirmStep(0),
            ],
            BatchSize: 10,
            MaxInFlight: 10,
            CrashAfter: 3,
            ConfirmOrder: []);

        Assert.True(await Task.Run(() => Run(scenario), TestContext.Current.CancellationToken));
    }

    /// <summary>
    /// Plays the scenario up to its crash point, checking after every step that each change at or
    /// below the confirmed position is carried (or overtaken by a newer version of its key) by a
    /// confirmed publish; then restarts from the last confirmed position as the slot would, and
    /// checks that what the broker confirmed before the crash plus what the source streams again
    /// gives every key its newest version.
    /// </summary>
    static bool Run(Scenario scenario)
    {
        var broker = new ScriptedBroker();
        var publisher = new ChangePublisher(broker, scenario.BatchSize, scenario.MaxInFlight, TimeSpan.FromMinutes(10));
        var confirmOrder = new Queue<int>(scenario.ConfirmOrder);
        var transactions = Fold(scenario.Steps);
        var next = 0;
        ulong slot = 0;
        for (var i = 0; i < scenario.CrashAfter; i++)
        {
            switch (scenario.Steps[i])
            {
                case Transaction:
                    Settle(publisher.Add(transactions[next++], CancellationToken.None), broker, confirmOrder);
                    break;
                case FlushStep:
                    Settle(publisher.Flush(CancellationToken.None), broker, confirmOrder);
                    break;
                case ConfirmStep confirm:
                    broker.ConfirmOne(confirm.Pick);
                    break;
            }

            var confirmed = publisher.ConfirmedLsn;
            if (confirmed < slot)
            {
                throw new InvalidOperationException($"the confirmed position went back from {slot} to {confirmed}");
            }

            slot = confirmed;
            foreach (var tx in transactions.Where(t => t.EndLsn <= slot))
            {
                foreach (var (key, version) in Keys(tx))
                {
                    if (!broker.ConfirmedCarries(key, version))
                    {
                        throw new InvalidOperationException($"after step {i} ({scenario.Steps[i]}) the confirmed position is {slot}, but {key} version {version} of the transaction ending at {tx.EndLsn} is in no confirmed publish");
                    }
                }
            }
        }

        if (scenario.CrashAfter == scenario.Steps.Length)
        {
            // no crash: once drained and confirmed, the slot may reach the last transaction (or marker)
            Settle(publisher.Drain(CancellationToken.None), broker, confirmOrder);
            var end = transactions.Count == 0 ? 0 : transactions[^1].EndLsn;
            if (next == transactions.Count && publisher.ConfirmedLsn != end)
            {
                throw new InvalidOperationException($"drained and confirmed, the position is {publisher.ConfirmedLsn}, not {end}");
            }
        }

        // restart: the slot streams again every transaction that ends after the last confirmed position
        var recovered = new Dictionary<string, long>(broker.Confirmed());
        foreach (var tx in transactions.Where(t => t.EndLsn > slot))
        {
            foreach (var (key, version) in Keys(tx))
            {
                recovered[key] = Math.Max(recovered.GetValueOrDefault(key, long.MinValue), version);
            }
        }

        var oracle = new Dictionary<string, long>();
        foreach (var (key, version) in transactions.SelectMany(Keys))
        {
            oracle[key] = Math.Max(oracle.GetValueOrDefault(key, long.MinValue), version);
        }

        return oracle.All(o => recovered.TryGetValue(o.Key, out var v) && v == o.Value);
    }

    /// <summary>Waits for a publisher call, confirming publishes (in the scenario's order) while its window is full.</summary>
    static void Settle(Task call, ScriptedBroker broker, Queue<int> confirmOrder)
    {
        while (!call.IsCompleted)
        {
            if (!broker.ConfirmOne(confirmOrder.TryDequeue(out var pick) ? pick : 0))
            {
                // every publish is confirmed: the call is finishing on another thread
                Assert.True(call.Wait(TimeSpan.FromSeconds(10)), "the publisher did not finish with every publish confirmed");
            }
        }

        call.GetAwaiter().GetResult();
    }

    static List<FoldedChanges> Fold(Step[] steps)
    {
        var transactions = new List<FoldedChanges>();
        ulong lsn = 0;
        foreach (var tx in steps.OfType<Transaction>())
        {
            lsn += (ulong)tx.LsnGap * 10;
            var campaigns = tx.Campaigns.Distinct().Select(c => new CampaignChanged
            {
                EventId = Guid.NewGuid(),
                Id = CampaignIds[c],
                Name = "campaign",
                Type = "voice",
                Status = "active",
                Config = EmptyObject,
                Version = Version(lsn, 0),
                OccurredAt = DateTimeOffset.UnixEpoch,
            }).ToList();

            // as TransactionFold: the last change of a key in the transaction survives
            var last = new Dictionary<int, (bool Delete, int Position)>();
            for (var p = 0; p < tx.Items.Length; p++)
            {
                last[tx.Items[p].Key] = (tx.Items[p].Delete, p + 1);
            }

            var changes = last.Where(l => !l.Value.Delete).Select(l => (ContactChange)new ContactChange.Upsert(new ContactChanged
            {
                EventId = Guid.NewGuid(),
                CampaignId = CampaignIds[l.Key / Phones.Length],
                PhoneNumber = Phones[l.Key % Phones.Length],
                Metadata = EmptyObject,
                Version = Version(lsn, l.Value.Position),
                OccurredAt = DateTimeOffset.UnixEpoch,
            }));
            var deletes = last.Where(l => l.Value.Delete).Select(l => new ContactChange.Delete(new ContactDeleted
            {
                EventId = Guid.NewGuid(),
                CampaignId = CampaignIds[l.Key / Phones.Length],
                PhoneNumber = Phones[l.Key % Phones.Length],
                Version = Version(lsn, l.Value.Position),
                OccurredAt = DateTimeOffset.UnixEpoch,
            }));
            transactions.Add(new FoldedChanges(lsn, campaigns, [.. changes, .. deletes], [], []));
        }

        return transactions;
    }

    static long Version(ulong lsn, int position) => ((long)lsn * 1000) + position;

    static IEnumerable<(string Key, long Version)> Keys(FoldedChanges tx) =>
        tx.Campaigns.Select(c => ($"campaign {c.Id}", c.Version))
            .Concat(tx.Contacts.Select(c => ($"contact {c.Key.CampaignId} {c.Key.PhoneNumber}", c.Version)));

    /// <summary>
    /// A broker whose confirms arrive only when the test says so, in any order. Confirms run the
    /// publisher's continuations on the confirming thread, so the test sees the publisher at rest.
    /// </summary>
    sealed class ScriptedBroker : IEventSink
    {
        readonly Lock gate = new();
        readonly List<(TaskCompletionSource Confirm, List<(string Key, long Version)> Carries)> sent = [];

        public Task Publish(CampaignChanged campaign, CancellationToken cancel) => Send([($"campaign {campaign.Id}", campaign.Version)]);

        public Task Publish(ContactChangeBatch batch, CancellationToken cancel) => Send(
            [.. batch.Changes.Select(c => ($"contact {c.CampaignId} {c.PhoneNumber}", c.Version)), .. batch.Deletes.Select(d => ($"contact {d.CampaignId} {d.PhoneNumber}", d.Version))]);

        Task Send(List<(string, long)> carries)
        {
            var confirm = new TaskCompletionSource();
            lock (gate)
            {
                sent.Add((confirm, carries));
            }

            return confirm.Task;
        }

        /// <summary>Confirms the <paramref name="pick"/>-th outstanding publish; false when none is outstanding.</summary>
        public bool ConfirmOne(int pick)
        {
            TaskCompletionSource confirm;
            lock (gate)
            {
                var open = sent.Where(s => !s.Confirm.Task.IsCompleted).ToList();
                if (open.Count == 0)
                {
                    return false;
                }

                confirm = open[pick % open.Count].Confirm;
            }

            confirm.SetResult();
            return true;
        }

        /// <summary>True when a confirmed publish carries this key at this version or a newer one.</summary>
        public bool ConfirmedCarries(string key, long version) =>
            Confirmed().TryGetValue(key, out var newest) && newest >= version;

        /// <summary>The newest confirmed version of every key.</summary>
        public Dictionary<string, long> Confirmed()
        {
            lock (gate)
            {
                var newest = new Dictionary<string, long>();
                foreach (var (key, version) in sent.Where(s => s.Confirm.Task.IsCompletedSuccessfully).SelectMany(s => s.Carries))
                {
                    newest[key] = Math.Max(newest.GetValueOrDefault(key, long.MinValue), version);
                }

                return newest;
            }
        }
    }
}
