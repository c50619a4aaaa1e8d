using System.Globalization;
using CampaignEvents.Source.Mapping;
using CampaignEvents.TestSupport.Stack;
using Dapper;
using FsCheck;
using FsCheck.Fluent;
using Npgsql;
using Xunit;

namespace CampaignEvents.IntegrationTests.Source;

/// <summary>
/// The replication stream's rendering of folded columns against PostgreSQL itself (docs/adr/0013):
/// for generated values of every kind, the text output of the value (what pgoutput sends, here
/// <c>format('%s', value)</c>, which calls the same output function) rendered by
/// <see cref="TextAsJson"/> with the type <see cref="ColumnType.Resolve"/> reads from the catalog,
/// stored as jsonb, is the jsonb text of <c>to_jsonb(value)</c>: what the digest hashes.
/// </summary>
public sealed class TextRenderingPropertyTests(IsolatedSourceDatabase database) : IClassFixture<IsolatedSourceDatabase>
{
    /// <summary>Column, SQL type, and a generator of literals of it (null: SQL NULL).</summary>
    static readonly (string Column, string Type, Gen<string?> Values)[] Columns =
    [
        ("i2", "smallint", Gen.Choose(short.MinValue, short.MaxValue).Select(i => (string?)i.ToString(CultureInfo.InvariantCulture))),
        ("i8", "bigint", ArbMap.Default.GeneratorFor<long>().Select(i => (string?)i.ToString(CultureInfo.InvariantCulture))),
        ("f4", "real", ArbMap.Default.GeneratorFor<float>().Select(f => (string?)f.ToString("R", CultureInfo.InvariantCulture))),
        ("f8", "double precision", Gen.OneOf(
            ArbMap.Default.GeneratorFor<double>().Select(f => f.ToString("R", CultureInfo.InvariantCulture)),
            Gen.Elements("1e20", "1.5e-7", "-0", "NaN", "-Infinity", "123456789012345680000", "5e-324")).Select(s => (string?)s)),
        ("num", "numeric", Numeric()),
        ("num_scaled", "numeric(12, 3)", Gen.Choose(-999_999, 999_999).Select(i => (string?)(i / 100m).ToString(CultureInfo.InvariantCulture))),
        ("b", "boolean", Gen.Elements<string?>("true", "false")),
        ("d", "date", Dates().Select(d => (string?)d)),
        ("ts", "timestamp", Timestamps(zone: false)),
        ("tstz", "timestamptz", Timestamps(zone: true)),
        ("t", "text", ArbMap.Default.GeneratorFor<NonNull<string>>().Select(s => (string?)s.Get.Replace("\0", "", StringComparison.Ordinal))),
        ("tags", "text[]", TextArrays()),
        ("ints", "integer[]", Gen.Elements<string?>("{}", "{1,2,NULL}", "{{1,2},{3,4}}", "[0:1]={7,8}", "{-2147483648}")),
        ("nums", "numeric[]", Gen.Elements<string?>("{1.50,NaN,-0.000}", "{}", "{{1,2.5}}")),
        ("flags", "boolean[]", Gen.Elements<string?>("{t,f,NULL}", "{}")),
        ("stamps", "timestamptz[]", Gen.Elements<string?>("{\"2026-03-01 12:00:00.5+05:30\",infinity,NULL}", "{\"0044-03-15 12:00:00+00 BC\"}")),
        ("days", "date[]", Gen.Elements<string?>("{2026-03-01,\"0044-03-15 BC\",-infinity}")),
        ("doc", "jsonb", Gen.Elements<string?>("{}", "{\"a\": [1, 2.50, {\"b\": null}], \"é\": \"ü\"}", "[1, \"x\"]", "12.0", "\"text\"", "null", "true")),
        ("docs", "json", Gen.Elements<string?>("{\"a\":1,\"a\":2}", "[ 1 , 2 ]", "{\"n\": 1e2}")),
        ("jsons", "jsonb[]", Gen.Elements<string?>("{\"{\\\"a\\\": 1}\",NULL,\"[]\"}")),
        ("id", "uuid", Gen.Constant<string?>(null).Select(_ => (string?)Guid.NewGuid().ToString())),
        ("span", "interval", Gen.Elements<string?>("1 day 02:03:04.5", "-3 months", "0")),
        ("score", "score_domain", Gen.Choose(0, 100).Select(i => (string?)i.ToString(CultureInfo.InvariantCulture))),
        ("scores", "score_domain[]", Gen.Elements<string?>("{1,2,NULL}")),
        ("mood", "mood", Gen.Elements<string?>("happy", "a \"quoted\" mood")),
        ("period", "tstzrange", Gen.Elements<string?>("[2026-03-01 12:00+02,2026-03-02)", "empty")),
    ];

    static Gen<string?> Numeric() =>
        Gen.OneOf(
            ArbMap.Default.GeneratorFor<decimal>().Select(d => d.ToString(CultureInfo.InvariantCulture)),
            Gen.Elements("NaN", "Infinity", "-Infinity", "0.000", "1e-20", "123456789012345678901234567890.123456789")).Select(s => (string?)s);

    static Gen<string> Dates() =>
        Gen.OneOf(
            Gen.Choose(-730_000, 2_900_000).Select(days => new DateTime(2000, 1, 1).AddDays(days).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)),
            Gen.Elements("0044-03-15 BC", "4713-01-01 BC", "12026-03-01", "infinity", "-infinity"));

    static Gen<string?> Timestamps(bool zone) =>
        Gen.OneOf(
            from seconds in Gen.Choose(-2_000_000_000, 2_000_000_000)
            from micros in Gen.Choose(0, 999_999)
            from offset in Gen.Choose(-14 * 4, 14 * 4)
            select (string?)(new DateTime(1970, 1, 1).AddSeconds(seconds * 2.0).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)
                + $".{micros:D6}" + (zone ? (offset < 0 ? "-" : "+") + TimeSpan.FromMinutes(Math.Abs(offset) * 15).ToString("hh\\:mm", CultureInfo.InvariantCulture) : "")),
            Gen.Elements<string?>("0044-03-15 12:00:00 BC", "10000-01-01 00:00:00", "infinity", "-infinity", "1900-01-01 00:00:00"));

    static Gen<string?> TextArrays() =>
        Gen.OneOf(
                Gen.Constant<string?>(null),
                Gen.Elements<string?>("", "NULL", " ", "a,b", "{}", "\"", "\\", "Zoë 📞", "\u00a0x"),
                ArbMap.Default.GeneratorFor<NonNull<string>>().Select(s => (string?)s.Get.Replace("\0", "", StringComparison.Ordinal)))
            .ArrayOf()
            .Select(elements => (string?)("{" + string.Join(",", elements.Select(e => e is null ? "NULL" : "\"" + e.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"")) + "}"));

    [Fact]
    public async Task Every_folded_type_streamed_as_text_renders_as_postgresql_s_to_jsonb()
    {
        await using (var setup = await database.DataSource.OpenConnectionAsync())
        {
            await setup.ExecuteAsync($"""
                CREATE DOMAIN score_domain AS integer CHECK (VALUE >= 0);
                CREATE TYPE mood AS ENUM ('happy', 'a "quoted" mood');
                CREATE TABLE typed (n serial PRIMARY KEY, {string.Join(", ", Columns.Select(c => $"{c.Column} {c.Type}"))});
                """);
        }

        var row = Gen.Constant(Array.Empty<string?>());
        foreach (var (_, _, values) in Columns)
        {
            var value = Gen.Frequency((1, Gen.Constant<string?>(null)), (5, values));
            var before = row;
            row = from head in before from next in value select (string?[])[.. head, next];
        }

        var property = Prop.ForAll(row.ToArbitrary(), values => Check(values).GetAwaiter().GetResult());
        FsCheck.Check.One(Config.QuickThrowOnFailure.WithMaxTest(150), property);
    }

    async Task<bool> Check(string?[] values)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync();
        await SourceSession.Pin(connection, TestContext.Current.CancellationToken);
        await using var transaction = await connection.BeginTransactionAsync();
        var insert = new NpgsqlCommand(
            $"INSERT INTO typed ({string.Join(", ", Columns.Select(c => c.Column))}) VALUES ({string.Join(", ", Columns.Select((c, i) => $"${i + 1}::{c.Type}"))}) RETURNING n",
            connection,
            transaction);
        foreach (var value in values)
        {
            insert.Parameters.Add(new NpgsqlParameter { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        }

        var n = (int)(await insert.ExecuteScalarAsync())!;
        var typeIds = (await connection.QueryAsync<(string Name, long Type)>(
            "SELECT attname::text, atttypid::bigint FROM pg_attribute WHERE attrelid = 'typed'::regclass AND attnum > 0", transaction: transaction))
            .ToDictionary(a => a.Name, a => (uint)a.Type);
        var types = await ColumnType.Resolve(connection, typeIds.Values, TestContext.Current.CancellationToken);

        var failures = new List<string>();
        foreach (var (column, type, _) in Columns)
        {
            var (text, expected) = await connection.QuerySingleAsync<(string? Text, string? Json)>(
                $"SELECT CASE WHEN {column} IS NOT NULL THEN format('%s', {column}) END, to_jsonb({column})::text FROM typed WHERE n = @n", new { n }, transaction);
            if (text is null)
            {
                continue;
            }

            string actual;
            try
            {
                var rendered = TextAsJson.Render(text, types[typeIds[column]]);
                actual = await connection.QuerySingleAsync<string>("SELECT @rendered::jsonb::text", new { rendered }, transaction);
            }
            catch (Exception e) when (e is System.Text.Json.JsonException or PostgresException)
            {
                actual = $"error: {e.Message}";
            }

            if (actual != expected)
            {
                failures.Add($"{column} {type} {text}: to_jsonb {expected}, rendered {actual}");
            }
        }

        await transaction.RollbackAsync();
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        return true;
    }
}
