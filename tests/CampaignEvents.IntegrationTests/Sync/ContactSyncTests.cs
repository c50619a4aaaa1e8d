using System.Text.Json;
using CampaignEvents.Contracts;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Xunit;
using static CampaignEvents.IntegrationTests.Sync.SyncHarness;

namespace CampaignEvents.IntegrationTests.Sync;

public sealed class ContactSyncTests(SyncFixture fixture) : IClassFixture<SyncFixture>
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Each_bad_input_ends_in_the_error_queue_with_its_reason_while_good_neighbours_are_applied()
    {
        var campaign = await InsertCampaign(fixture.Database.DataSource);
        var before = (await Peek(fixture.Vhost, Topology.ErrorQueue(Topology.ContactChangesQueue))).Count;
        var bad = new (string Exchange, string Json, string Reason)[]
        {
            (Topology.ContactChangedExchange, "{\"eventId\": \"not json", "the body is not JSON"),
            (Topology.ContactChangedExchange, Changed(campaign, "+12015550200", 1).Replace("\"phoneNumber\":\"+12015550200\",", "", StringComparison.Ordinal), "phoneNumber is missing"),
            (Topology.ContactChangedExchange, Changed(campaign, "+12015550201", 1).Replace("\"version\":1", "\"version\":\"one\"", StringComparison.Ordinal), "version must be a whole number"),
            (Topology.ContactChangedExchange, Changed(campaign, "12015550202", 1), "not in E.164"),
            (Topology.ContactChangedExchange, Changed(campaign, "+1201", 1), "+1201"),
            (Topology.ContactChangedExchange, Changed(campaign, "+12015550203", 1, "[1,2]"), "metadata must be a JSON object"),
            (Topology.ContactChangedExchange, Changed(campaign, "+12015550204", 1, $$"""{"big":"{{new string('x', 70_000)}}"}"""), "above the limit of 65536"),
            (Topology.ContactChangedExchange, Changed(campaign, "+12015550205", -1), "version must not be negative"),
            (Topology.ContactChangeBatchExchange, $$"""{"batchId":"{{Guid.NewGuid()}}","changes":[{{Changed(campaign, "+12015550206", 1)}},{{Changed(campaign, "bad", 1)}}]}""", "changes[1].phone number 'bad'"),
        };
        var good = Enumerable.Range(0, 20).Select(i => (Topology.ContactChangedExchange, Changed(campaign, $"+120155503{i:D2}", 5))).ToList();
        var messages = good.Take(10).Concat(bad.Select(b => (b.Exchange, b.Json))).Concat(good.Skip(10));

        await PublishRaw(fixture.Broker, messages);

        await Eventually.Until(
            async () => await Count(fixture.Database.DataSource, "SELECT count(*) FROM contacts WHERE campaign_id = @campaign", new { campaign }) == 20,
            Deadline, "the 20 good contacts applied");
        var errors = new List<QueuedMessage>();
        await Eventually.Until(
            async () => (errors = await Peek(fixture.Vhost, Topology.ErrorQueue(Topology.ContactChangesQueue))).Count >= before + bad.Length,
            Deadline, () => $"{bad.Length} messages in the error queue, {errors.Count - before} there");
        foreach (var (_, json, reason) in bad)
        {
            var error = Assert.Single(errors, e => e.Payload == json);
            Assert.Contains(reason, error.Header("MT-Fault-Message"), StringComparison.OrdinalIgnoreCase);
            Assert.Equal("fault", error.Header("MT-Reason"));
        }

        Assert.Equal(0, await Count(fixture.Database.DataSource, "SELECT count(*) FROM contacts WHERE phone_number = '+12015550206'"));
    }

    [Fact]
    public async Task A_contact_of_an_unknown_campaign_is_retried_then_sent_to_the_error_queue_with_that_reason()
    {
        var campaign = Guid.NewGuid();
        var known = await InsertCampaign(fixture.Database.DataSource);
        var json = Changed(campaign, "+12015550400", 1);
        await PublishRaw(fixture.Broker, [(Topology.ContactChangedExchange, json), (Topology.ContactChangedExchange, Changed(known, "+12015550401", 1))]);

        await Eventually.Until(
            async () => (await Peek(fixture.Vhost, Topology.ErrorQueue(Topology.ContactChangesQueue))).Any(e => e.Payload == json),
            Deadline, "the message of the unknown campaign in the error queue");
        var error = (await Peek(fixture.Vhost, Topology.ErrorQueue(Topology.ContactChangesQueue))).Single(e => e.Payload == json);
        Assert.Contains($"unknown campaign {campaign}", error.Header("MT-Fault-Message"), StringComparison.Ordinal);
        Assert.Equal(1, await Count(fixture.Database.DataSource, "SELECT count(*) FROM contacts WHERE campaign_id = @known", new { known }));
    }

    [Fact]
    public async Task A_contact_whose_campaign_arrives_a_little_later_is_applied()
    {
        var campaign = Guid.NewGuid();
        await PublishRaw(fixture.Broker, [(Topology.ContactChangedExchange, Changed(campaign, "+12015550500", 1))]);
        var bus = await fixture.OtherRoles();
        await bus.Publish(new CampaignChanged
        {
            EventId = Guid.NewGuid(), Id = campaign, Name = "late", Type = "voice", Status = "active",
            Config = JsonDocument.Parse("{}").RootElement, Version = 1, OccurredAt = DateTimeOffset.UtcNow,
        });

        await Eventually.Until(
            async () => await Count(fixture.Database.DataSource, "SELECT count(*) FROM contacts WHERE campaign_id = @campaign", new { campaign }) == 1,
            Deadline, "the contact applied once its campaign is there");
    }

    [Fact]
    public async Task Messages_published_through_MassTransit_by_the_other_roles_are_applied()
    {
        var campaign = Guid.NewGuid();
        var bus = await fixture.OtherRoles();
        await bus.Publish(new CampaignChanged
        {
            EventId = Guid.NewGuid(), Id = campaign, Name = "from MassTransit", Type = "voice", Status = "active",
            Config = JsonDocument.Parse("""{"retries":3}""").RootElement, Version = 7, OccurredAt = DateTimeOffset.UtcNow,
        });
        await Eventually.Until(
            async () => await Count(fixture.Database.DataSource, "SELECT count(*) FROM campaigns WHERE id = @campaign AND version = 7", new { campaign }) == 1,
            Deadline, "the campaign applied");

        await bus.Publish(new ContactChangeBatch
        {
            BatchId = Guid.NewGuid(),
            Changes = [.. Enumerable.Range(0, 3).Select(i => Change(campaign, $"+1201555060{i}", 10, $$"""{"n":{{i}}}"""))],
            Deletes = [Delete(campaign, "+12015550602", 11)],
        });
        await bus.Publish(Change(campaign, "+12015550603", 10, """{"single":true}"""));
        await bus.Publish(Delete(campaign, "+12015550600", 12));

        // the whole end state at once: two counts read one after the other could match while the
        // single change (603) was still on its way and the delete of 600 already applied
        await Eventually.Until(
            async () => (await Contacts(fixture.Database.DataSource, campaign)).Select(r => r.PhoneNumber).Order().SequenceEqual(["+12015550601", "+12015550603"])
                && await Count(fixture.Database.DataSource, "SELECT count(*) FROM contact_tombstones WHERE campaign_id = @campaign", new { campaign }) == 2,
            Deadline, "two contacts left (601, 603) and two tombstones (600, 602)");
        var rows = await Contacts(fixture.Database.DataSource, campaign);
        Assert.Equal(["+12015550601", "+12015550603"], rows.Select(r => r.PhoneNumber).Order());
    }

    [Fact]
    public async Task A_late_older_change_does_not_bring_a_deleted_contact_back()
    {
        var campaign = await InsertCampaign(fixture.Database.DataSource);
        await PublishRaw(fixture.Broker, [(Topology.ContactDeletedExchange, Deleted(campaign, "+12015550700", 20))]);
        await Eventually.Until(
            async () => await Count(fixture.Database.DataSource, "SELECT count(*) FROM contact_tombstones WHERE campaign_id = @campaign", new { campaign }) == 1,
            Deadline, "the tombstone");
        await PublishRaw(fixture.Broker, [(Topology.ContactChangedExchange, Changed(campaign, "+12015550700", 19)), (Topology.ContactChangedExchange, Changed(campaign, "+12015550701", 1))]);
        await Eventually.Until(
            async () => await Count(fixture.Database.DataSource, "SELECT count(*) FROM contacts WHERE campaign_id = @campaign", new { campaign }) == 1,
            Deadline, "the later message applied");
        Assert.Equal("+12015550701", Assert.Single(await Contacts(fixture.Database.DataSource, campaign)).PhoneNumber);
    }

    [Fact]
    public async Task An_invalid_campaign_event_ends_in_its_error_queue_with_its_reason()
    {
        var id = Guid.NewGuid();
        var badConfig = $$"""{"eventId":"{{Guid.NewGuid()}}","id":"{{id}}","name":"n","type":"voice","status":"active","config":"text","version":1,"occurredAt":"2026-01-01T00:00:00Z"}""";
        var missingName = $$"""{"eventId":"{{Guid.NewGuid()}}","id":"{{Guid.NewGuid()}}","type":"voice","status":"active","config":{},"version":1,"occurredAt":"2026-01-01T00:00:00Z"}""";
        await PublishRaw(fixture.Broker, [(Topology.CampaignChangedExchange, badConfig), (Topology.CampaignChangedExchange, missingName)]);

        var errors = new List<QueuedMessage>();
        await Eventually.Until(
            async () => (errors = await Peek(fixture.Vhost, Topology.ErrorQueue(Topology.CampaignChangesQueue))).Count(e => e.Payload == badConfig || e.Payload == missingName) == 2,
            Deadline, "both campaign events in campaign-changes_error");
        Assert.Contains("config must be a JSON object", errors.Single(e => e.Payload == badConfig).Header("MT-Fault-Message"), StringComparison.Ordinal);
        Assert.Contains("name", errors.Single(e => e.Payload == missingName).Header("MT-Fault-Message"), StringComparison.Ordinal);
        Assert.Equal(0, await Count(fixture.Database.DataSource, "SELECT count(*) FROM campaigns WHERE id = @id", new { id }));
    }

    [Fact]
    public async Task Tombstones_older_than_the_retention_are_removed_and_younger_ones_kept()
    {
        var campaign = await InsertCampaign(fixture.Database.DataSource);
        await Count(fixture.Database.DataSource, """
            INSERT INTO contact_tombstones (campaign_id, phone_number, version, deleted_at)
            VALUES (@campaign, '+12015550900', 1, now() - interval '8 days'), (@campaign, '+12015550901', 1, now() - interval '6 days')
            RETURNING 0
            """, new { campaign });
        var cleanup = fixture.Host.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<CampaignEvents.Sync.Tombstones.TombstoneCleanup>().Single();

        await cleanup.RunOnce(CancellationToken.None);

        Assert.Equal(1, await Count(fixture.Database.DataSource, "SELECT count(*) FROM contact_tombstones WHERE campaign_id = @campaign AND phone_number = '+12015550901'", new { campaign }));
        Assert.Equal(0, await Count(fixture.Database.DataSource, "SELECT count(*) FROM contact_tombstones WHERE campaign_id = @campaign AND phone_number = '+12015550900'", new { campaign }));
    }

    [Fact]
    public async Task A_wrong_sync_setting_stops_the_start_with_a_message_naming_it()
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => StartSync(
            fixture.Database.Connection.ConnectionString,
            fixture.Vhost.Rabbit,
            new Dictionary<string, string?> { ["Sync:PrefetchCount"] = "10", ["Sync:BatchMessageLimit"] = "100" }));
        Assert.Contains("Sync:PrefetchCount (10) must be at least Sync:BatchMessageLimit (100)", error.Message, StringComparison.Ordinal);
    }

    internal static ContactChanged Change(Guid campaign, string phone, long version, string metadata) => new()
    {
        EventId = Guid.NewGuid(), CampaignId = campaign, PhoneNumber = phone, Version = version,
        OccurredAt = DateTimeOffset.UtcNow, Metadata = JsonDocument.Parse(metadata).RootElement,
    };

    internal static ContactDeleted Delete(Guid campaign, string phone, long version) => new()
    {
        EventId = Guid.NewGuid(), CampaignId = campaign, PhoneNumber = phone, Version = version, OccurredAt = DateTimeOffset.UtcNow,
    };
}
