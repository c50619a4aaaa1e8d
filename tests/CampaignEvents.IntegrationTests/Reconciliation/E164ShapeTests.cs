using System.Text.RegularExpressions;
using CampaignEvents.Infrastructure.Digests;
using CampaignEvents.TestSupport.Stack;
using Dapper;
using FsCheck;
using FsCheck.Fluent;
using Xunit;

namespace CampaignEvents.IntegrationTests.Reconciliation;

/// <summary>
/// The SQL the source side uses to decide which phones PostgreSQL may hash as they are
/// (<see cref="Digest.LooksLikeE164"/>) accepts exactly the E.164 shape: '+', a digit 1-9, then
/// 1 to 14 more ASCII digits. Anything else must go to the adapter's own mapping, or a phone the
/// adapter normalizes or rejects would be hashed raw.
/// </summary>
public sealed partial class E164ShapeTests(IsolatedSourceDatabase database) : IClassFixture<IsolatedSourceDatabase>
{
    static readonly string[] Known =
    [
        "+14155550123", "+1", "+12", "+123456789012345", "+1234567890123456", "+01234", "14155550123",
        "+1 415 555 0123", "+1-415", "++14155550123", "+1415555012a", "", "+", "+١٢٣", "+12٣4", "+１２３",
        "+1415\n", " +14155550123", "+44 7400 123456", "(201) 555-0123",
    ];

    [GeneratedRegex(@"^\+[1-9][0-9]{1,14}\z", RegexOptions.CultureInvariant)]
    private static partial Regex Shape();

    static bool Expected(string phone) => Shape().IsMatch(phone);

    async Task<bool[]> InPostgres(string[] phones)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync();
        var sql = $"SELECT {Digest.LooksLikeE164("p")} FROM unnest(@phones::text[]) WITH ORDINALITY AS u(p, n) ORDER BY n";
        return [.. await connection.QueryAsync<bool>(sql, new { phones })];
    }

    [Fact]
    public async Task Known_shapes_are_judged_as_the_E164_pattern_judges_them()
    {
        var judged = await InPostgres(Known);

        Assert.Equal(Known.Select(Expected), judged);
        Assert.True(judged[0]);
        Assert.False(judged[Array.IndexOf(Known, "+١٢٣")]);
    }

    [Fact]
    public void Property_any_string_of_phone_characters_is_judged_as_the_E164_pattern_judges_it()
    {
        var chars = Gen.Elements("+0123456789 -()a١２\n".ToCharArray());
        var phones = Gen.Choose(0, 20).SelectMany(n => chars.ArrayOf(n).Select(c => new string(c)))
            .Select(s => s.Length > 1 && s[0] != '+' && s[1] % 2 == 0 ? "+" + s : s);
        var property = Prop.ForAll(phones.ArrayOf(50).ToArbitrary(), batch =>
            InPostgres(batch).GetAwaiter().GetResult().SequenceEqual(batch.Select(Expected)));

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(40), property);
    }
}
