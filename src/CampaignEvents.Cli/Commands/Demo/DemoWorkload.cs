using System.Text.Json;
using CampaignEvents.Infrastructure.Phones;
using Npgsql;
using NpgsqlTypes;

namespace CampaignEvents.Cli.Commands.Demo;

/// <summary>
/// The demo's external database: campaigns and contacts with realistic metadata (names, emails,
/// tags), phone numbers in mixed formats, a few that no one can dial, and a slice that keeps
/// changing while the pipeline syncs.
/// </summary>
sealed class DemoWorkload(NpgsqlDataSource source, int seed)
{
    static readonly string[] FirstNames = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Linus", "Margaret", "Tim", "Sophie", "José", "Zoë", "Łukasz", "Aiko", "Nnamdi", "Ingrid", "Mateo"];
    static readonly string[] LastNames = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Perlman", "Torvalds", "Hamilton", "Berners-Lee", "Wilson", "García", "Müller", "Nowak", "Tanaka", "Okafor", "Larsen", "Silva"];
    static readonly string[] Tags = ["vip", "newsletter", "renewal", "churn-risk", "spanish", "evening", "weekend", "b2b", "trial", "donor"];
    static readonly string[] CampaignNames = ["Spring renewal reminders", "Flu shot appointments", "Delivery confirmations", "Donor thank-you calls", "Payment due notices", "Event invitations", "Service outage notices", "Survey follow-ups"];
    static readonly int[] AreaCodes = [201, 202, 212, 213, 305, 312, 415, 503, 617, 702, 718, 808, 917, 971];

    /// <summary>Phones that cannot be normalized: reported as rejected at source, never synced.</summary>
    public static readonly string[] InvalidPhones = ["12345", "not-a-number", "000", "555-CALL-NOW"];

    readonly Random random = new(seed);
    readonly PhoneNormalizer phones = new("US");
    long nextNumber;

    public sealed record Campaign(Guid Id, string Name, int Contacts, int Invalid);

    /// <summary>Inserts the campaigns, then the contacts by binary COPY.</summary>
    public async Task<IReadOnlyList<Campaign>> Fill(int campaigns, int contacts, int invalidPerCampaign, CancellationToken cancel)
    {
        var created = new List<Campaign>();
        await using var connection = await source.OpenConnectionAsync(cancel);
        for (var i = 0; i < campaigns; i++)
        {
            var id = Guid.NewGuid();
            var name = CampaignNames[i % CampaignNames.Length] + (i >= CampaignNames.Length ? $" {i / CampaignNames.Length + 1}" : "");
            await using (var insert = new NpgsqlCommand(
                "INSERT INTO campaigns (id, name, type, status, config) VALUES ($1, $2, 'voice', 'active', $3::jsonb)", connection))
            {
                insert.Parameters.AddWithValue(id);
                insert.Parameters.AddWithValue(name);
                insert.Parameters.AddWithValue(JsonSerializer.Serialize(new { callerId = "+12025550100", maxAttempts = 3, window = new { from = "09:00", to = "20:00" } }));
                await insert.ExecuteNonQueryAsync(cancel);
            }

            var count = contacts / campaigns + (i < contacts % campaigns ? 1 : 0);
            created.Add(new Campaign(id, name, count, invalidPerCampaign));
        }

        await using (var copy = await connection.BeginBinaryImportAsync(
            "COPY contacts (campaign_id, phone_number, metadata) FROM STDIN (FORMAT BINARY)", cancel))
        {
            foreach (var campaign in created)
            {
                for (var n = 0; n < campaign.Contacts; n++)
                {
                    await copy.StartRowAsync(cancel);
                    await copy.WriteAsync(campaign.Id, NpgsqlDbType.Uuid, cancel);
                    await copy.WriteAsync(NextPhone(written: n % 3 == 0), NpgsqlDbType.Text, cancel);
                    await copy.WriteAsync(Metadata(), NpgsqlDbType.Jsonb, cancel);
                }

                for (var n = 0; n < campaign.Invalid; n++)
                {
                    await copy.StartRowAsync(cancel);
                    await copy.WriteAsync(campaign.Id, NpgsqlDbType.Uuid, cancel);
                    await copy.WriteAsync(InvalidPhones[n % InvalidPhones.Length] + (n >= InvalidPhones.Length ? $" x{n}" : ""), NpgsqlDbType.Text, cancel);
                    await copy.WriteAsync(Metadata(), NpgsqlDbType.Jsonb, cancel);
                }
            }

            await copy.CompleteAsync(cancel);
        }

        return created;
    }

    /// <summary>
    /// One round of changes by ordinary users of the source: some contacts get new metadata, some
    /// are deleted, some are added. Returns how many rows it touched.
    /// </summary>
    public async Task<int> Churn(IReadOnlyList<Campaign> campaigns, int rows, CancellationToken cancel)
    {
        var campaign = campaigns[random.Next(campaigns.Count)];
        await using var connection = await source.OpenConnectionAsync(cancel);
        await using var transaction = await connection.BeginTransactionAsync(cancel);
        const string Update = """
            UPDATE contacts SET metadata = metadata || jsonb_build_object('lastCall', now()::text, 'attempts', $2)
            WHERE id IN (SELECT id FROM contacts WHERE campaign_id = $1 ORDER BY random() LIMIT $3)
            """;
        const string Delete = """
            DELETE FROM contacts
            WHERE id IN (SELECT id FROM contacts WHERE campaign_id = $1 AND phone_number LIKE '+%' ORDER BY random() LIMIT $2)
            """;
        var touched = 0;
        await using (var update = new NpgsqlCommand(Update, connection, transaction))
        {
            update.Parameters.AddWithValue(campaign.Id);
            update.Parameters.AddWithValue(random.Next(1, 9));
            update.Parameters.AddWithValue(rows);
            touched += await update.ExecuteNonQueryAsync(cancel);
        }

        await using (var delete = new NpgsqlCommand(Delete, connection, transaction))
        {
            delete.Parameters.AddWithValue(campaign.Id);
            delete.Parameters.AddWithValue(Math.Max(1, rows / 10));
            touched += await delete.ExecuteNonQueryAsync(cancel);
        }

        for (var i = 0; i < Math.Max(1, rows / 10); i++)
        {
            await using var insert = new NpgsqlCommand(
                "INSERT INTO contacts (campaign_id, phone_number, metadata) VALUES ($1, $2, $3::jsonb) ON CONFLICT DO NOTHING", connection, transaction);
            insert.Parameters.AddWithValue(campaign.Id);
            insert.Parameters.AddWithValue(NextPhone(written: false));
            insert.Parameters.AddWithValue(Metadata());
            touched += await insert.ExecuteNonQueryAsync(cancel);
        }

        await transaction.CommitAsync(cancel);
        return touched;
    }

    /// <summary>A new valid US number, unique within this run; a third are written the way people type them.</summary>
    string NextPhone(bool written)
    {
        while (true)
        {
            var n = nextNumber++;
            var area = AreaCodes[n % AreaCodes.Length];
            var exchange = 200 + (n / AreaCodes.Length / 10000 % 800);
            var line = n / AreaCodes.Length % 10000;
            var e164 = $"+1{area}{exchange}{line:D4}";
            if (phones.Normalize(e164, out _) is null)
            {
                continue;
            }

            return written ? $"({area}) {exchange}-{line:D4}" : e164;
        }
    }

    string Metadata()
    {
        var first = FirstNames[random.Next(FirstNames.Length)];
        var last = LastNames[random.Next(LastNames.Length)];
        return JsonSerializer.Serialize(new
        {
            name = $"{first} {last}",
            email = $"{first.ToLowerInvariant()}.{last.ToLowerInvariant()}@example.org",
            tags = Enumerable.Range(0, random.Next(0, 3)).Select(_ => Tags[random.Next(Tags.Length)]).Distinct().ToArray(),
            language = random.Next(4) == 0 ? "es" : "en",
        });
    }
}
