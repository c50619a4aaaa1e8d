using CampaignEvents.TestSupport;

namespace CampaignEvents.IntegrationTests.Cli;

/// <summary>What an operator must see when a setting is wrong: exit 1, one line naming it, no stack trace, no secret.</summary>
static class OneLineError
{
    public static void Assert(CliResult result, string mentions, params string[] secrets)
    {
        Xunit.Assert.Equal(1, result.ExitCode);
        var lines = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Xunit.Assert.True(lines.Length == 1, $"expected one line on stderr, got:\n{result}");
        Xunit.Assert.StartsWith("error: ", lines[0], StringComparison.Ordinal);
        Xunit.Assert.True(lines[0].Contains(mentions, StringComparison.Ordinal), $"expected the line to name {mentions}, got:\n{result}");
        foreach (var secret in secrets)
        {
            Xunit.Assert.DoesNotContain(secret, result.Output + result.Error, StringComparison.Ordinal);
        }

        Xunit.Assert.DoesNotContain("   at ", result.Output + result.Error, StringComparison.Ordinal);
    }
}
