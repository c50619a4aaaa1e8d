using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.Sync.ApplyContactChanges;
using CampaignEvents.TestSupport;
using CampaignEvents.TestSupport.Generators;
using FsCheck;
using FsCheck.Fluent;
using Xunit;
using static CampaignEvents.IntegrationTests.Sync.SyncHarness;

namespace CampaignEvents.IntegrationTests.Sync;

public sealed class ConvergenceTests(SyncFixture fixture) : IClassFixture<SyncFixture>
{
    static readonly string[] Phones = ["+12015550100", "+12015550101", "+447400123456", "+33612345678", "+4915123456789"];

    static Gen<(List<ContactChange> History, List<ContactChange> Delivered, int Seed)> Histories(int campaigns) =>
        from count in Gen.Choose(1, 60)
        from events in Gen.ListOf(
            from campaign in Gen.Choose(0, campaigns - 1)
            from phone in Gen.Elements(Phones)
            from delete in Gen.Frequency((3, Gen.Constant(false)), (1, Gen.Constant(true)))
            from metadata in ContactGenerators.Metadata
            select (campaign, phone, delete, metadata), count)
        from duplicates in Gen.ListOf(Gen.Choose(0, count - 1), count / 2)
        from seed in Gen.Choose(0, int.MaxValue)
        select Build(events, duplicates, seed);

    static (List<ContactChange>, List<ContactChange>, int) Build(IEnumerable<(int Campaign, string Phone, bool Delete, JsonObject Metadata)> events, IEnumerable<int> duplicates, int seed)
    {
        var version = 1000L;
        // placeholders: campaign n is Guid(n); each iteration maps them to its own campaigns
        var history = events.Select(e => e.Delete
            ? ContactChange.Delete(Placeholder(e.Campaign), e.Phone, version += 3)
            : ContactChange.Upsert(Placeholder(e.Campaign), e.Phone, version += 3, e.Metadata.ToJsonString())).ToList();
        var delivered = history.Concat(duplicates.Select(i => history[i])).ToList();
        new Random(seed).Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(delivered));
        return (history, delivered, seed);
    }

    static Guid Placeholder(int n) => new(n, 0, 0, new byte[8]);

    static List<(string Exchange, string Json)> AsMessages(IEnumerable<ContactChange> delivered, Guid[] campaigns, int seed)
    {
        var random = new Random(seed);
        var messages = new List<(string, string)>();
        var pending = new List<ContactChange>();
        foreach (var change in delivered.Select(c => c with { CampaignId = campaigns[c.CampaignId.ToByteArray()[0]] }))
        {
            // a mix of single messages and batch messages, as upstream systems and the source adapter send them
            if (random.Next(3) == 0)
            {
                pending.Add(change);
                if (pending.Count >= 4)
                {
                    messages.Add((Topology.ContactChangeBatchExchange, Batch(pending)));
                    pending.Clear();
                }
            }
            else
            {
                messages.Add(change.IsDelete
                    ? (Topology.ContactDeletedExchange, Deleted(change.CampaignId, change.PhoneNumber, change.Version))
                    : (Topology.ContactChangedExchange, Changed(change.CampaignId, change.PhoneNumber, change.Version, change.Metadata!)));
            }
        }

        if (pending.Count > 0)
        {
            messages.Add((Topology.ContactChangeBatchExchange, Batch(pending)));
        }

        return messages;
    }

    static string Batch(IEnumerable<ContactChange> changes) =>
        $$"""{"batchId":"{{Guid.NewGuid()}}","changes":[{{string.Join(",", changes.Where(c => !c.IsDelete).Select(c => Changed(c.CampaignId, c.PhoneNumber, c.Version, c.Metadata!)))}}],"deletes":[{{string.Join(",", changes.Where(c => c.IsDelete).Select(c => Deleted(c.CampaignId, c.PhoneNumber, c.Version)))}}]}""";

    async Task Converges(List<ContactChange> history, List<ContactChange> delivered, int seed)
    {
        var campaigns = new[] { await InsertCampaign(fixture.Database.DataSource), await InsertCampaign(fixture.Database.DataSource) };
        var expected = LwwTable.Oracle(history)
            .Select(o => new ContactRow(campaigns[o.Key.Item1.ToByteArray()[0]], o.Key.Item2, JsonNode.Parse(o.Value)!.AsObject()))
            .ToList();
        await PublishRaw(fixture.Broker, AsMessages(delivered, campaigns, seed));
        await Eventually.Until(async () => await QueueEmpty() && Matches(expected, await Contacts(fixture.Database.DataSource, campaigns)), TimeSpan.FromSeconds(60), "the oracle's contacts");
        ContactAssert.SameContacts(expected, await Contacts(fixture.Database.DataSource, campaigns));
        Assert.Empty(await Peek(fixture.Vhost, Topology.ErrorQueue(Topology.ContactChangesQueue)));
    }

    static bool Matches(IEnumerable<ContactRow> expected, IEnumerable<ContactRow> actual)
    {
        try
        {
            return ContactAssert.SameContacts(expected, actual);
        }
        catch (Xunit.Sdk.XunitException)
        {
            return false;
        }
    }

    async Task<bool> QueueEmpty()
    {
        var queue = await fixture.Vhost.Management.GetFromJsonAsync<JsonElement>($"api/queues/{fixture.Vhost.Name}/{Topology.ContactChangesQueue}");
        return queue.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Number && messages.GetInt64() == 0;
    }

    [Fact]
    public void Any_history_published_with_duplicates_and_shuffled_leaves_the_oracle_table()
    {
        var property = Prop.ForAll(Histories(2).ToArbitrary(), generated =>
        {
            Converges(generated.History, generated.Delivered, generated.Seed).GetAwaiter().GetResult();
            return true;
        });

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(20), property);
    }

    [Fact]
    public async Task Two_consumer_instances_on_one_queue_with_interleaved_versions_converge_to_the_oracle()
    {
        using var second = await StartSync(fixture.Database.Connection.ConnectionString, fixture.Vhost.Rabbit);
        try
        {
            var generated = Histories(2).Sample(30, 3);
            foreach (var (history, delivered, seed) in generated)
            {
                // interleaved: many versions of the same few keys, spread over both consumers
                var many = Enumerable.Range(0, 10).SelectMany(_ => delivered).ToList();
                await Converges(history, many, seed);
            }
        }
        finally
        {
            await second.StopAsync();
        }
    }
}
