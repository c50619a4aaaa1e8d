using System.Text.Json.Nodes;
using CampaignEvents.TestSupport.Generators;
using Dapper;
using FsCheck;
using FsCheck.Fluent;
using Npgsql;

namespace CampaignEvents.IntegrationTests.Source;

/// <summary>One generated change at the source; rows are picked by position at run time.</summary>
public abstract record SourceOp
{
    public sealed record Insert(int Campaign, int Phone, JsonObject Metadata) : SourceOp;

    public sealed record Update(int Pick, JsonObject Metadata) : SourceOp;

    public sealed record ChangePhone(int Pick, int Phone) : SourceOp;

    public sealed record MoveCampaign(int Pick, int Campaign) : SourceOp;

    public sealed record Delete(int Pick) : SourceOp;
}

/// <summary>A generated workload: initial rows, then transactions of 1-3 operations in three phases.</summary>
public sealed record SourceWorkload(SourceOp.Insert[] Initial, SourceOp[][] BeforeStart, SourceOp[][] DuringSnapshot, SourceOp[][] AfterSnapshot)
{
    public const int Campaigns = 2;

    const int Phones = 40;

    /// <summary>
    /// A small pool of numbers, so keys collide, come back after a delete and move; each number
    /// has one fixed spelling (E.164 or national) so two source rows never map to one key; the
    /// last one is not a phone number at all (rejected, never published).
    /// </summary>
    public static string PhoneText(int i) => i >= Phones ? "not-a-phone" : i % 2 == 0 ? $"+1415555{100 + i:D4}" : $"(415) 555-{100 + i:D4}";

    static readonly Gen<int> Phone = Gen.Frequency((12, Gen.Choose(0, Phones - 1)), (1, Gen.Constant(Phones)));

    static readonly Gen<SourceOp.Insert> InsertGen =
        from campaign in Gen.Choose(0, Campaigns - 1)
        from phone in Phone
        from metadata in ContactGenerators.Metadata
        select new SourceOp.Insert(campaign, phone, metadata);

    static readonly Gen<SourceOp> OpGen = Gen.Frequency(
        (4, InsertGen.Select(i => (SourceOp)i)),
        (4, from pick in Gen.Choose(0, 1000) from metadata in ContactGenerators.Metadata select (SourceOp)new SourceOp.Update(pick, metadata)),
        (2, from pick in Gen.Choose(0, 1000) from phone in Phone select (SourceOp)new SourceOp.ChangePhone(pick, phone)),
        (1, from pick in Gen.Choose(0, 1000) from campaign in Gen.Choose(0, Campaigns - 1) select (SourceOp)new SourceOp.MoveCampaign(pick, campaign)),
        (3, Gen.Choose(0, 1000).Select(pick => (SourceOp)new SourceOp.Delete(pick))));

    static readonly Gen<SourceOp[][]> Transactions =
        Gen.Choose(1, 3).SelectMany(n => OpGen.ArrayOf(n)).ArrayOf();

    public static Gen<SourceWorkload> Generator { get; } =
        from initial in InsertGen.ArrayOf()
        from before in Transactions
        from during in Transactions
        from after in Transactions
        select new SourceWorkload(initial, before, during, after);

    public override string ToString() =>
        $"{Initial.Length} initial rows, {BeforeStart.Length}/{DuringSnapshot.Length}/{AfterSnapshot.Length} transactions before/during/after the snapshot";

    public static async Task Run(NpgsqlDataSource source, Guid[] campaigns, IEnumerable<SourceOp[]> transactions)
    {
        await using var connection = await source.OpenConnectionAsync();
        foreach (var ops in transactions)
        {
            await using var transaction = await connection.BeginTransactionAsync();
            foreach (var op in ops)
            {
                await Apply(connection, transaction, campaigns, op);
            }

            await transaction.CommitAsync();
        }
    }

    const string Pick = "(SELECT id FROM contacts ORDER BY id OFFSET (@pick % GREATEST((SELECT count(*) FROM contacts), 1)) LIMIT 1)";

    static Task<int> Apply(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid[] campaigns, SourceOp op) => op switch
    {
        SourceOp.Insert i => connection.ExecuteAsync(
            "INSERT INTO contacts (campaign_id, phone_number, metadata) VALUES (@campaign, @phone, @metadata::jsonb) ON CONFLICT (campaign_id, phone_number) DO NOTHING",
            new { campaign = campaigns[i.Campaign], phone = PhoneText(i.Phone), metadata = i.Metadata.ToJsonString() }, transaction),
        SourceOp.Update u => connection.ExecuteAsync(
            $"UPDATE contacts SET metadata = @metadata::jsonb WHERE id = {Pick}",
            new { pick = u.Pick, metadata = u.Metadata.ToJsonString() }, transaction),
        SourceOp.ChangePhone c => connection.ExecuteAsync(
            $"UPDATE contacts SET phone_number = @phone WHERE id = {Pick} AND NOT EXISTS (SELECT 1 FROM contacts o WHERE o.campaign_id = contacts.campaign_id AND o.phone_number = @phone)",
            new { pick = c.Pick, phone = PhoneText(c.Phone) }, transaction),
        SourceOp.MoveCampaign m => connection.ExecuteAsync(
            $"UPDATE contacts SET campaign_id = @campaign WHERE id = {Pick} AND NOT EXISTS (SELECT 1 FROM contacts o WHERE o.campaign_id = @campaign AND o.phone_number = contacts.phone_number)",
            new { pick = m.Pick, campaign = campaigns[m.Campaign] }, transaction),
        SourceOp.Delete d => connection.ExecuteAsync($"DELETE FROM contacts WHERE id = {Pick}", new { pick = d.Pick }, transaction),
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };
}
