using System.Text.Json;
using System.Text.Json.Nodes;
using CampaignEvents.Contracts.Reconciliation;
using CampaignEvents.TestSupport.Generators;
using Dapper;
using FsCheck;
using FsCheck.Fluent;
using PhoneNumbers;
using Xunit;

namespace CampaignEvents.IntegrationTests.Reconciliation;

/// <summary>
/// Drift injected straight into the local database is reported key by key, in the right class,
/// through the source side on RabbitMQ and the reconciliation consumer.
/// </summary>
public sealed class DriftReportTests(SourceAndReconcileStack stack) : IClassFixture<SourceAndReconcileStack>
{
    static readonly PhoneNumberUtil Util = PhoneNumberUtil.GetInstance();

    static (string Phone, JsonObject Metadata)[] Rows(int count, int seed)
    {
        var phones = ContactGenerators.E164.Sample(count * 3, seed).Distinct().Take(count).ToArray();
        return [.. phones.Select((p, i) => (p, new JsonObject { ["name"] = $"contact {i}", ["n"] = i, ["tags"] = new JsonArray("a", "ü") }))];
    }

    [Fact]
    public async Task When_local_rows_are_deleted_changed_added_and_moved_reconcile_reports_exactly_those_keys_and_exits_2()
    {
        var a = await stack.CreateCampaign();
        var b = await stack.CreateCampaign();
        var rowsA = Rows(300, 1);
        var rowsB = Rows(50, 2);
        await stack.WriteSource(a, rowsA);
        await stack.WriteSource(b, rowsB);
        await stack.WriteLocal(a, rowsA);
        await stack.WriteLocal(b, rowsB);
        var extra = ContactGenerators.E164.Sample(50, 3).Except(rowsA.Select(r => r.Phone)).Except(rowsB.Select(r => r.Phone)).Take(2).ToArray();

        string[] deleted = [rowsA[0].Phone, rowsA[10].Phone, rowsA[20].Phone];
        string[] changed = [rowsA[30].Phone, rowsA[40].Phone, rowsA[50].Phone];
        var moved = rowsA[60].Phone;
        await using (var connection = await stack.Local.DataSource.OpenConnectionAsync())
        {
            await connection.ExecuteAsync("DELETE FROM contacts WHERE campaign_id = @a AND phone_number = ANY(@deleted)", new { a, deleted });
            await connection.ExecuteAsync("UPDATE contacts SET metadata = metadata || '{\"drift\": 1}' WHERE campaign_id = @a AND phone_number = ANY(@changed)", new { a, changed });
            await connection.ExecuteAsync("INSERT INTO contacts (campaign_id, phone_number, metadata) SELECT @a, p, '{}' FROM unnest(@extra::text[]) AS p", new { a, extra });
            await connection.ExecuteAsync("UPDATE contacts SET campaign_id = @b WHERE campaign_id = @a AND phone_number = @moved", new { a, b, moved });
        }

        var (exit, output, error) = await stack.Command(a, json: true);

        Assert.True(exit == 2, $"exit {exit}: {error}\n{output}");
        var report = JsonSerializer.Deserialize<CampaignReconciled>(output, new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
        Assert.Equal(ReconciliationOutcomes.Drift, report.Outcome);
        Assert.Equal([.. deleted.Append(moved).Order(StringComparer.Ordinal)], Keys(report, DriftKinds.MissingLocally));
        Assert.Equal([.. changed.Order(StringComparer.Ordinal)], Keys(report, DriftKinds.Different));
        Assert.Equal([.. extra.Order(StringComparer.Ordinal)], Keys(report, DriftKinds.ExtraLocally));
        var different = report.Drift.First(d => d.Kind == DriftKinds.Different);
        Assert.Equal(1, different.LocalVersion);
        Assert.NotNull(different.SourceVersion);
        Assert.Contains("\"drift\": 1", different.LocalMetadata, StringComparison.Ordinal);
        Assert.Equal(1, await stack.Runs(a));

        var other = await stack.Reconcile(b);
        Assert.Equal(ReconciliationOutcomes.Drift, other.Outcome);
        Assert.Equal([moved], Keys(other, DriftKinds.ExtraLocally));
        Assert.Empty(Keys(other, DriftKinds.MissingLocally));
        Assert.Empty(Keys(other, DriftKinds.Different));
    }

    [Fact]
    public async Task A_consistent_campaign_with_source_phones_in_national_format_and_invalid_phones_exits_0_and_lists_the_rejected_rows()
    {
        var campaign = await stack.CreateCampaign();
        var rows = Rows(200, 4);

        // every third phone written at the source as people type it: "(201) 555-0123", "+44 7400 123456"
        var raw = rows.Select((r, i) => i % 3 == 0 ? (Format(r.Phone, i), r.Metadata) : r).ToArray();
        await stack.WriteSource(campaign, raw.Concat([("not a phone", new JsonObject()), ("+1999", new JsonObject())]));
        await stack.WriteLocal(campaign, rows);

        var (exit, output, error) = await stack.Command(campaign);

        Assert.True(exit == 0, $"exit {exit}: {error}\n{output}");
        Assert.Contains($"campaign {campaign}: consistent", output, StringComparison.Ordinal);
        Assert.Contains("rejected_at_source\tnot a phone", output, StringComparison.Ordinal);
        Assert.Contains("rejected_at_source\t+1999", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_campaign_gives_one_clear_line_exit_1_and_changes_nothing()
    {
        var unknown = Guid.NewGuid();

        var (exit, output, error) = await stack.Command(unknown);

        Assert.Equal(1, exit);
        Assert.Equal($"error: campaign {unknown}: campaign {unknown} is unknown: neither the local database nor the source holds it", error.Trim());
        Assert.Equal("", output);
        Assert.Equal(0, await stack.Runs(unknown));
    }

    [Fact]
    public async Task Reconcile_needs_either_a_campaign_or_all()
    {
        var (exit, _, error) = await stack.Command(null);

        Assert.Equal(1, exit);
        Assert.Equal("error: give either --campaign <id> or --all", error.Trim());
    }

    [Fact]
    public async Task Property_the_reported_keys_are_exactly_the_symmetric_difference()
    {
        var placeholder = Guid.NewGuid();
        var drift =
            from source in ContactGenerators.Contacts([placeholder])
            from deletes in Gen.Choose(0, 100).ArrayOf(source.Length)
            from changes in Gen.Choose(0, 100).ArrayOf(source.Length)
            from newMetadata in ContactGenerators.Metadata.ArrayOf(source.Length)
            from extra in ContactGenerators.Contacts([placeholder])
            select (source, deletes, changes, newMetadata, extra);

        var property = Prop.ForAll(drift.ToArbitrary(), input =>
        {
            var (sourceRows, deletes, changes, newMetadata, extraRows) = input;
            var campaign = stack.CreateCampaign().GetAwaiter().GetResult();
            var local = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
            for (var i = 0; i < sourceRows.Length; i++)
            {
                if (deletes[i] < 15)
                {
                    continue;
                }

                local[sourceRows[i].PhoneNumber] = changes[i] < 15 ? newMetadata[i] : sourceRows[i].Metadata;
            }

            foreach (var row in extraRows.Where(r => !sourceRows.Any(s => s.PhoneNumber == r.PhoneNumber)))
            {
                local[row.PhoneNumber] = row.Metadata;
            }

            stack.WriteSource(campaign, sourceRows.Select(r => (r.PhoneNumber, r.Metadata))).GetAwaiter().GetResult();
            stack.WriteLocal(campaign, local.Select(l => (l.Key, l.Value))).GetAwaiter().GetResult();
            var report = stack.Reconcile(campaign).GetAwaiter().GetResult();

            var sourceByPhone = sourceRows.ToDictionary(r => r.PhoneNumber, r => r.Metadata, StringComparer.Ordinal);
            var missing = sourceByPhone.Keys.Where(p => !local.ContainsKey(p)).Order(StringComparer.Ordinal).ToArray();
            var extra = local.Keys.Where(p => !sourceByPhone.ContainsKey(p)).Order(StringComparer.Ordinal).ToArray();
            var different = sourceByPhone.Keys.Where(p => local.TryGetValue(p, out var m) && !JsonNode.DeepEquals(m, sourceByPhone[p])).Order(StringComparer.Ordinal).ToArray();
            Assert.Equal(missing, Keys(report, DriftKinds.MissingLocally));
            Assert.Equal(extra, Keys(report, DriftKinds.ExtraLocally));
            Assert.Equal(different, Keys(report, DriftKinds.Different));
            Assert.Equal(missing.Length + extra.Length + different.Length == 0 ? ReconciliationOutcomes.Consistent : ReconciliationOutcomes.Drift, report.Outcome);
            Assert.Empty(report.RejectedAtSource);
            return true;
        });

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(20), property);
    }

    static string[] Keys(CampaignReconciled report, string kind) =>
        [.. report.Drift.Where(d => d.Kind == kind).Select(d => d.PhoneNumber).Order(StringComparer.Ordinal)];

    static string Format(string e164, int i)
    {
        var parsed = Util.Parse(e164, null);
        return parsed.CountryCode == 1 || i % 2 == 0
            ? Util.Format(parsed, parsed.CountryCode == 1 ? PhoneNumberFormat.NATIONAL : PhoneNumberFormat.INTERNATIONAL)
            : Util.Format(parsed, PhoneNumberFormat.INTERNATIONAL);
    }
}
