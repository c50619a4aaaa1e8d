using CampaignEvents.TestSupport;
using Xunit;

namespace CampaignEvents.IntegrationTests.Observability;

/// <summary>A wrong OTLP setting stops <c>run</c> with one line naming it, like every other setting.</summary>
public sealed class OtlpSettingsTests
{
    [Theory]
    [InlineData("Observability__OtlpEndpoint", "collector:4318", "error: setting Observability:OtlpEndpoint")]
    [InlineData("Observability__OtlpEndpoint", "ftp://127.0.0.1:4318", "error: setting Observability:OtlpEndpoint")]
    [InlineData("Observability__OtlpProtocol", "thrift", "error: setting Observability:OtlpProtocol")]
    public async Task A_wrong_OTLP_setting_stops_run_with_one_line_naming_it(string variable, string value, string expected)
    {
        var result = await CliProcess.Run(["run", "--role", "sync"], new Dictionary<string, string?>
        {
            ["Observability__OtlpEndpoint"] = "http://127.0.0.1:4318",
            [variable] = value,
        });

        Assert.Equal(1, result.ExitCode);
        var lines = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, result.ToString());
        Assert.StartsWith(expected, lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Output + result.Error, StringComparison.Ordinal);
    }
}
