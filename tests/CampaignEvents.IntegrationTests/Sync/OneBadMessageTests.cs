using System.Text;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.TestSupport;
using Dapper;
using RabbitMQ.Client;
using Xunit;
using static CampaignEvents.IntegrationTests.Sync.SyncHarness;

namespace CampaignEvents.IntegrationTests.Sync;

/// <summary>
/// One bad message, one error (docs/adr/0002): what validation cannot foresee is found by applying
/// the batch in parts; what it can (text jsonb cannot store, bytes that are not UTF-8) never
/// reaches a batch.
/// </summary>
public sealed class OneBadMessageTests(SyncFixture fixture) : IClassFixture<SyncFixture>
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    static readonly string ErrorQueue = Topology.ErrorQueue(Topology.ContactChangesQueue);

    [Fact]
    public async Task Messages_the_database_refuses_go_to_the_error_queue_alone_with_its_reason_and_their_batch_neighbours_are_applied()
    {
        var campaign = await InsertCampaign(fixture.Database.DataSource);
        // valid JSON and a valid message, but beyond PostgreSQL's numeric range: jsonb refuses it (SQLSTATE 22003)
        var bad = Enumerable.Range(0, 4).Select(i => Changed(campaign, $"+1201555090{i}", 1, $$"""{"n":1e100000{{i}}}""")).ToList();
        var good = Enumerable.Range(0, 200).Select(i => Changed(campaign, $"+12015551{i:D3}", 1, $$"""{"n":{{i}}}""")).ToList();
        var messages = good.ToList();
        for (var i = 0; i < bad.Count; i++)
        {
            messages.Insert(20 + (i * 50), bad[i]);
        }

        await PublishRaw(fixture.Broker, messages.Select(json => (Topology.ContactChangedExchange, json)));

        var errors = new List<QueuedMessage>();
        await Eventually.Until(
            async () => await Count(fixture.Database.DataSource, "SELECT count(*) FROM contacts WHERE campaign_id = @campaign", new { campaign }) == good.Count
                && (errors = Of(campaign, await Peek(fixture.Vhost, ErrorQueue))).Count >= bad.Count,
            Deadline,
            () => $"the {good.Count} good contacts applied and the {bad.Count} bad messages in {ErrorQueue} ({errors.Count} there; {string.Join(", ", errors.Select(e => e.Header("MT-Fault-Message")).Distinct())})");
        Assert.Equal(bad.Order(), errors.Select(e => e.Payload).Order());
        foreach (var error in errors)
        {
            Assert.Equal("the database refused this message: value overflows numeric format (22003)", error.Header("MT-Fault-Message"));
            Assert.Equal("fault", error.Header("MT-Reason"));
        }

        Assert.Equal(0, await Count(fixture.Database.DataSource, "SELECT count(*) FROM contacts WHERE phone_number LIKE '+1201555090_'"));
    }

    [Fact]
    public async Task Text_that_PostgreSQL_cannot_store_is_refused_in_validation_with_its_reason_and_not_applied()
    {
        var campaign = await InsertCampaign(fixture.Database.DataSource);
        var good = Changed(campaign, "+12015552000", 1);
        var notUtf8 = Encoding.UTF8.GetBytes(Changed(campaign, "+12015552001", 1, """{"name":"Zo@"}"""));
        var at = Array.IndexOf(notUtf8, (byte)'@');
        notUtf8[at] = 0xeb; // Latin-1 'ë', not UTF-8
        var bodies = new (byte[] Body, string Reason)[]
        {
            (notUtf8, $"the body is not valid UTF-8 at byte {at}"),
            (Encoding.UTF8.GetBytes(Changed(campaign, "+12015552002", 1, """{"name":"a\u0000b"}""")), "metadata contains a NUL character (\\u0000), which PostgreSQL jsonb cannot store"),
            (Encoding.UTF8.GetBytes(Changed(campaign, "+12015552003", 1, """{"name":"a\ud800b"}""")), "metadata contains an unpaired surrogate (\\ud800), which PostgreSQL jsonb cannot store"),
        };

        await PublishBytes(fixture.Broker, [.. bodies.Select(b => b.Body), Encoding.UTF8.GetBytes(good)]);

        var errors = new List<QueuedMessage>();
        await Eventually.Until(
            async () => await Count(fixture.Database.DataSource, "SELECT count(*) FROM contacts WHERE campaign_id = @campaign", new { campaign }) == 1
                && (errors = await Peek(fixture.Vhost, ErrorQueue)).Count(e => bodies.Any(b => SameBody(e, b.Body))) == bodies.Length,
            Deadline,
            () => $"the good message applied and the {bodies.Length} refused ones in {ErrorQueue}");
        foreach (var (body, reason) in bodies)
        {
            var error = Assert.Single(errors, e => SameBody(e, body));
            Assert.Equal(reason, error.Header("MT-Fault-Message"));
        }

        Assert.Equal(1, await Count(fixture.Database.DataSource, "SELECT count(*) FROM contacts WHERE campaign_id = @campaign", new { campaign }));
    }

    [Fact]
    public async Task A_backslash_followed_by_u0000_is_text_and_is_stored_as_written()
    {
        var campaign = await InsertCampaign(fixture.Database.DataSource);
        await PublishRaw(fixture.Broker, [(Topology.ContactChangedExchange, Changed(campaign, "+12015553000", 1, """{"k":"\\u0000","path":"C:\\new\\u0000\\\\ud800"}"""))]);

        await Eventually.Until(
            async () => await Count(fixture.Database.DataSource, "SELECT count(*) FROM contacts WHERE campaign_id = @campaign", new { campaign }) == 1,
            Deadline, "the contact applied");
        await using var connection = await fixture.Database.DataSource.OpenConnectionAsync();
        var (k, path) = await connection.QuerySingleAsync<(string, string)>(
            "SELECT metadata->>'k', metadata->>'path' FROM contacts WHERE campaign_id = @campaign", new { campaign });
        Assert.Equal(@"\u0000", k);
        Assert.Equal(@"C:\new\u0000\\ud800", path);
    }

    /// <summary>The messages of the error queue that belong to a campaign of this test (the fixture's queue is shared by the class).</summary>
    static List<QueuedMessage> Of(Guid campaign, List<QueuedMessage> errors) =>
        [.. errors.Where(e => e.Payload.Contains(campaign.ToString(), StringComparison.Ordinal))];

    /// <summary>The management API returns a body that is not UTF-8 in base64.</summary>
    static bool SameBody(QueuedMessage message, byte[] body)
    {
        if (message.Payload == Encoding.UTF8.GetString(body) && Encoding.UTF8.GetBytes(message.Payload).AsSpan().SequenceEqual(body))
        {
            return true;
        }

        var decoded = new byte[message.Payload.Length];
        return Convert.TryFromBase64String(message.Payload, decoded, out var length) && decoded.AsSpan(0, length).SequenceEqual(body);
    }

    /// <summary>Publishes bodies byte for byte to <c>contact-changed</c> (<see cref="PublishRaw"/> can only send UTF-8 text).</summary>
    static async Task PublishBytes(IConnection connection, IEnumerable<byte[]> bodies)
    {
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        foreach (var body in bodies)
        {
            var properties = new BasicProperties { ContentType = "application/json", DeliveryMode = DeliveryModes.Persistent };
            await channel.BasicPublishAsync(Topology.ContactChangedExchange, "", mandatory: false, properties, body);
        }
    }
}
