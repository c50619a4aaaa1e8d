using System.Text.Json.Nodes;
using CampaignEvents.Cli.Hosting;
using CampaignEvents.IntegrationTests.Pipeline;
using CampaignEvents.IntegrationTests.Source;
using CampaignEvents.TestSupport;
using CampaignEvents.TestSupport.Generators;
using CampaignEvents.TestSupport.Stack;
using Dapper;
using FsCheck;
using FsCheck.Fluent;
using Npgsql;
using Xunit;

namespace CampaignEvents.IntegrationTests.Schema;

/// <summary>
/// The seed's Property 2 through the real pipeline: generated contacts written to the external
/// database, then changed and partly deleted there, reach the local database exactly, through
/// logical replication, RabbitMQ and the sync consumer (one adapter and one consumer for all
/// iterations, each iteration in a campaign of its own).
/// </summary>
public sealed class SynchronizationThroughPipelineTests(IsolatedVhost vhost) : IClassFixture<IsolatedVhost>
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Property_2_local_contacts_equal_the_external_ones_after_synchronization()
    {
        await using var world = await SourceWorld.Create(vhost, "property2");
        using var host = await RoleHosts.Build([Role.Source, Role.Sync], world.Settings);
        await host.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            Guid[] placeholder = [Guid.NewGuid()];
            var property = Prop.ForAll(
                ContactGenerators.Contacts(placeholder).ToArbitrary(),
                Gen.Choose(0, 3).ToArbitrary(),
                (generated, deleteEvery) => Iteration(world, generated, deleteEvery).GetAwaiter().GetResult());

            Check.One(Config.QuickThrowOnFailure.WithMaxTest(25), property);
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    static async Task<bool> Iteration(SourceWorld world, ContactRow[] generated, int deleteEvery)
    {
        var campaign = (await world.CreateCampaigns(1))[0];
        var rows = generated.Select(c => c with { CampaignId = campaign }).ToArray();
        await world.Seed(rows);

        // then the source keeps living: every other contact changes, some are deleted
        await using (var connection = await world.Source.OpenConnectionAsync())
        {
            for (var i = 0; i < rows.Length; i++)
            {
                if (deleteEvery > 0 && i % (deleteEvery + 1) == 0)
                {
                    await connection.ExecuteAsync("DELETE FROM contacts WHERE campaign_id = @c AND phone_number = @p", new { c = campaign, p = rows[i].PhoneNumber });
                }
                else if (i % 2 == 1)
                {
                    await connection.ExecuteAsync(
                        "UPDATE contacts SET metadata = metadata || jsonb_build_object('visits', @i) WHERE campaign_id = @c AND phone_number = @p",
                        new { c = campaign, p = rows[i].PhoneNumber, i });
                }
            }
        }

        var last = "";
        await Eventually.Until(async () =>
        {
            var expected = (await world.SourceContacts()).Where(c => c.CampaignId == campaign);
            await using var local = new NpgsqlConnection(world.LocalDb.ConnectionString);
            await local.OpenAsync();
            var actual = (await local.QueryAsync<(Guid CampaignId, string PhoneNumber, string Metadata)>(
                    "SELECT campaign_id, phone_number, metadata::text FROM contacts WHERE campaign_id = @campaign", new { campaign }))
                .Select(r => new ContactRow(r.CampaignId, r.PhoneNumber, JsonNode.Parse(r.Metadata)!.AsObject()));
            try
            {
                return ContactAssert.SameContacts(expected, actual);
            }
            catch (Xunit.Sdk.XunitException e)
            {
                last = e.Message;
                return false;
            }
        }, Deadline, () => $"campaign {campaign}: local never matched the source: {last}");
        return true;
    }
}
