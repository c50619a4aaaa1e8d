using CampaignEvents.TestSupport;
using CampaignEvents.TestSupport.Stack;
using Xunit;

namespace CampaignEvents.IntegrationTests.Cli;

/// <summary>
/// A command run against a local database nobody migrated yet (a fresh stack, a new server): one
/// line that says what to run, exit 1, never a stack trace.
/// </summary>
public sealed class UnmigratedDatabaseTests(IsolatedSourceDatabase empty) : IClassFixture<IsolatedSourceDatabase>
{
    [Fact]
    public async Task Reconcile_against_a_local_database_never_migrated_says_to_migrate_in_one_line()
    {
        var result = await CliProcess.Run(
            ["reconcile", "--all", "--timeout", "5"],
            new Dictionary<string, string?> { ["ConnectionStrings__Contacts"] = empty.Connection.ConnectionString });

        OneLineError.Assert(result, "run campaign-events migrate", empty.Connection.Password!);
        Assert.Contains("relation \"campaigns\" does not exist", result.Error, StringComparison.Ordinal);
    }
}
