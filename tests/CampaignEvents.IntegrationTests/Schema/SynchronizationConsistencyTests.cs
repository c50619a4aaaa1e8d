using System.Text.Json.Nodes;
using CampaignEvents.Infrastructure.Database;
using CampaignEvents.TestSupport.Generators;
using CampaignEvents.TestSupport.Stack;
using Dapper;
using FsCheck;
using FsCheck.Fluent;
using Npgsql;
using Xunit;

namespace CampaignEvents.IntegrationTests.Schema;

/// <summary>
/// The seed's Property 2 (database synchronization consistency) against the schema itself:
/// contacts written to PostgreSQL read back exactly. Each iteration runs in a transaction that
/// is rolled back, so nothing is left behind. The pipeline tests run the same property through
/// RabbitMQ and the sync consumer. Written and read as the sync job's login, the one that writes
/// contacts in production (database/roles/local.sql).
/// </summary>
public sealed class SynchronizationConsistencyTests(IsolatedDatabase database) : IClassFixture<IsolatedDatabase>
{
    const string InsertCampaign = """
        INSERT INTO campaigns (name, type, status, config)
        VALUES (@name, 'voice', 'draft', '{}')
        RETURNING id
        """;

    const string InsertContact = """
        INSERT INTO contacts (campaign_id, phone_number, metadata)
        VALUES (@CampaignId, @PhoneNumber, @Metadata::jsonb)
        """;

    const string SelectContacts = """
        SELECT campaign_id, phone_number, metadata::text AS metadata
        FROM contacts
        WHERE campaign_id = ANY(@campaigns)
        """;

    [Fact]
    public void Property_2_local_contacts_read_back_exactly_as_written()
    {
        // generated against placeholder campaign ids, mapped to the campaigns each iteration creates
        Guid[] placeholders = [Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid()];
        var property = Prop.ForAll(
            ContactGenerators.Contacts(placeholders).ToArbitrary(),
            generated =>
            {
                using var sync = NpgsqlDataSource.Create(Identities.Login(database.Connection, RoleGrants.Roles.Sync));
                using var connection = sync.OpenConnection();
                using var transaction = connection.BeginTransaction();
                var campaigns = Enumerable.Range(0, 3)
                    .Select(i => connection.ExecuteScalar<Guid>(InsertCampaign, new { name = $"campaign {i}" }, transaction))
                    .ToArray();
                var written = generated
                    .Select(c => c with { CampaignId = campaigns[Array.IndexOf(placeholders, c.CampaignId)] })
                    .ToArray();

                foreach (var contact in written)
                {
                    connection.Execute(InsertContact, new { contact.CampaignId, contact.PhoneNumber, Metadata = contact.Metadata.ToJsonString() }, transaction);
                }

                var read = connection.Query<(Guid CampaignId, string PhoneNumber, string Metadata)>(SelectContacts, new { campaigns }, transaction)
                    .Select(r => new ContactRow(r.CampaignId, r.PhoneNumber, JsonNode.Parse(r.Metadata)!.AsObject()))
                    .ToArray();
                transaction.Rollback();

                return ContactAssert.SameContacts(written, read);
            });

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(100), property);
    }

    [Fact]
    public async Task A_contact_of_a_campaign_that_does_not_exist_is_refused_by_the_foreign_key()
    {
        await using var connection = await database.DataSource.OpenConnectionAsync();
        var error = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync(
            "INSERT INTO contacts (campaign_id, phone_number) VALUES ('00000000-0000-0000-0000-000000000000', '+1234567890')"));
        Assert.Equal(PostgresErrorCodes.ForeignKeyViolation, error.SqlState);
    }

    [Fact]
    public async Task A_second_contact_with_the_same_campaign_and_phone_is_refused_as_a_duplicate()
    {
        await using var connection = await database.DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var campaign = await connection.ExecuteScalarAsync<Guid>(InsertCampaign, new { name = "Test" }, transaction);
        await connection.ExecuteAsync(
            "INSERT INTO contacts (campaign_id, phone_number, metadata) VALUES (@campaign, '+1234567890', '{\"name\": \"Test\"}')",
            new { campaign },
            transaction);

        var error = await Assert.ThrowsAsync<PostgresException>(() => connection.ExecuteAsync(
            "INSERT INTO contacts (campaign_id, phone_number) VALUES (@campaign, '+1234567890')", new { campaign }, transaction));
        Assert.Equal(PostgresErrorCodes.UniqueViolation, error.SqlState);
    }
}
