using CampaignEvents.Cli.Commands;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.TestSupport;
using Xunit;
using static CampaignEvents.IntegrationTests.Sync.SyncHarness;

namespace CampaignEvents.IntegrationTests.Sync;

public sealed class ErrorReplayTests(SyncFixture fixture) : IClassFixture<SyncFixture>
{
    [Fact]
    public async Task Errors_replay_moves_messages_back_once_their_cause_is_fixed_and_they_are_applied()
    {
        var campaign = Guid.NewGuid();
        var errorQueue = Topology.ErrorQueue(Topology.ContactChangesQueue);
        await PublishRaw(fixture.Broker, [
            (Topology.ContactChangedExchange, Changed(campaign, "+12015550800", 3)),
            (Topology.ContactDeletedExchange, Deleted(campaign, "+12015550801", 4)),
            (Topology.ContactChangeBatchExchange, $$"""{"batchId":"{{Guid.NewGuid()}}","changes":[{{Changed(campaign, "+12015550802", 5)}}],"deletes":[]}"""),
        ]);
        await Eventually.Until(async () => (await Peek(fixture.Vhost, errorQueue)).Count == 3, TimeSpan.FromSeconds(30), "three messages of the unknown campaign in the error queue");
        var shown = new StringWriter();
        await ErrorsCommand.Write(await ErrorsCommand.Read(fixture.Vhost.Rabbit, Topology.ContactChangesQueue, 0, CancellationToken.None), json: false, terminal: true, shown);
        Assert.Contains($"unknown campaign {campaign}", shown.ToString(), StringComparison.Ordinal);
        Assert.Contains("3 message(s) in contact-changes_error", shown.ToString(), StringComparison.Ordinal);

        await InsertCampaign(fixture.Database.DataSource, campaign);
        var moved = await ErrorsCommand.Replay(fixture.Vhost.Rabbit, Topology.ContactChangesQueue, 0, CancellationToken.None);

        Assert.Equal(3, moved);
        await Eventually.Until(
            async () => await Count(fixture.Database.DataSource, "SELECT count(*) FROM contacts WHERE campaign_id = @campaign", new { campaign }) == 2
                && await Count(fixture.Database.DataSource, "SELECT count(*) FROM contact_tombstones WHERE campaign_id = @campaign AND version = 4", new { campaign }) == 1,
            TimeSpan.FromSeconds(30), "the two changes applied and the delete's tombstone written");
        Assert.Empty(await Peek(fixture.Vhost, errorQueue));
    }
}
