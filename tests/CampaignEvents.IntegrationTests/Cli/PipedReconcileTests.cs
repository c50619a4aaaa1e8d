using System.Text.Json;
using System.Text.Json.Nodes;
using CampaignEvents.IntegrationTests.Reconciliation;
using CampaignEvents.TestSupport;
using CampaignEvents.TestSupport.Generators;
using CampaignEvents.TestSupport.Stack;
using FsCheck.Fluent;
using Xunit;

namespace CampaignEvents.IntegrationTests.Cli;

/// <summary>
/// <c>reconcile</c> run as a process with its output redirected, as in CI: a summary line and one
/// tab-separated line per key, whatever the keys hold; <c>--json</c> with the documented fields.
/// </summary>
public sealed class PipedReconcileTests(SourceAndReconcileStack stack) : IClassFixture<SourceAndReconcileStack>
{
    const string RawPhone = "call\tme\nlater";

    Dictionary<string, string?> Environment => Identities.As(Job.Reconcile, stack.Overrides).ToDictionary(s => s.Key.Replace(":", "__", StringComparison.Ordinal), s => s.Value);

    [Fact]
    public async Task Reconcile_piped_prints_one_line_per_key_and_json_has_the_documented_fields()
    {
        var campaign = await stack.CreateCampaign();
        var phones = ContactGenerators.E164.Sample(60, 11).Distinct().Take(21).ToArray();
        var rows = phones[..20].Select((p, i) => (p, new JsonObject { ["name"] = $"line one\nline two {i}" })).ToArray();
        await stack.WriteSource(campaign, rows.Append((RawPhone, new JsonObject())));
        // locally: the first row missing, the second different, one extra
        await stack.WriteLocal(campaign, rows[2..].Append((rows[1].p, new JsonObject { ["name"] = "changed" })).Append((phones[20], new JsonObject())));

        // Information as appsettings.json's Default (it says so; set here so the check does not depend on it)
        var piped = await CliProcess.Run(["reconcile", "--campaign", campaign.ToString(), "--timeout", "20"], new Dictionary<string, string?>(Environment) { ["Logging__LogLevel__Default"] = "Information" });

        Assert.True(piped.ExitCode == 2, piped.ToString());
        Assert.DoesNotContain("\u001b", piped.Output, StringComparison.Ordinal);
        // stderr carries warnings and errors only, whatever Logging:LogLevel says
        Assert.DoesNotContain("info:", piped.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("\"LogLevel\":\"Information\"", piped.Error, StringComparison.Ordinal);
        var lines = piped.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(5, lines.Length);
        Assert.StartsWith($"campaign {campaign}: drift (1 missing locally, 1 extra locally, 1 different, 1 rejected at source)", lines[0], StringComparison.Ordinal);
        var keys = lines[1..].Select(l => l.Split('\t')).ToDictionary(f => f[0], f => f);
        Assert.Equal(rows[0].p, keys["missing_locally"][1]);
        Assert.Equal(phones[20], keys["extra_locally"][1]);
        Assert.Equal(rows[1].p, keys["different"][1]);
        Assert.Equal(4, keys["different"].Length);
        Assert.Equal(@"call\tme\nlater", keys["rejected_at_source"][1]);
        Assert.Equal(3, keys["rejected_at_source"].Length);

        var json = await CliProcess.Run(["reconcile", "--campaign", campaign.ToString(), "--timeout", "20", "--json"], Environment);

        Assert.True(json.ExitCode == 2, json.ToString());
        var report = JsonDocument.Parse(json.Output).RootElement;
        Assert.Equal(JsonFields.DocumentedFor("reconcile", report), JsonFields.Of(report));
        Assert.Equal(campaign, report.GetProperty("campaignId").GetGuid());
        Assert.Equal("drift", report.GetProperty("outcome").GetString());
        Assert.Equal(RawPhone, report.GetProperty("rejectedAtSource")[0].GetProperty("rawPhone").GetString());
        Assert.Equal(3, report.GetProperty("drift").GetArrayLength());
    }
}
