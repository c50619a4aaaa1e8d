using CampaignEvents.Bench;
using CampaignEvents.Cli;
using CampaignEvents.TestSupport;
using Xunit;

namespace CampaignEvents.IntegrationTests.Docs;

/// <summary>
/// The README is the front door: every file, link and command it names exists and works. The same
/// holds for the pages under docs/ and the CHANGELOG.
/// </summary>
public sealed class DocumentationTests
{
    public static TheoryData<string> Pages()
    {
        var pages = new TheoryData<string> { "README.md", "CHANGELOG.md" };
        foreach (var page in Directory.EnumerateFiles(Repository.PathOf("docs"), "*.md", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            pages.Add(Path.GetRelativePath(Repository.Root, page));
        }

        return pages;
    }

    [Theory]
    [MemberData(nameof(Pages))]
    public void Every_relative_link_leads_to_a_file_and_every_anchor_to_a_heading(string page)
    {
        var file = Repository.PathOf(page);

        var problems = DocumentationChecks.BrokenLinks(file, File.ReadAllText(file)).ToList();

        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Theory]
    [MemberData(nameof(Pages))]
    public void Every_file_path_written_in_code_exists(string page)
    {
        var file = Repository.PathOf(page);

        var problems = DocumentationChecks.MissingPaths(file, File.ReadAllText(file)).ToList();

        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    /// <summary>The program and the benchmark tool, each checked against its own command tree.</summary>
    static readonly DocumentationChecks.Program[] Programs =
    [
        new("campaign-events", "src/CampaignEvents.Cli", CliRoot.Create()),
        new("campaign-events-bench", "tools/CampaignEvents.Bench", BenchRoot.Create()),
    ];

    [Fact]
    public void Every_campaign_events_command_line_of_the_README_is_a_command_and_options_the_program_has()
    {
        var file = Repository.PathOf("README.md");
        var text = File.ReadAllText(file);

        var problems = DocumentationChecks.UnknownCommands(file, text, Programs).ToList();

        Assert.True(problems.Count == 0, string.Join('\n', problems));
        // the check saw the command lines: the table of commands alone has more than ten, and the benchmarks'
        Assert.True(text.Split("`campaign-events ").Length > 10);
        Assert.True(text.Split("campaign-events-bench ").Length > 4);
    }

    [Fact]
    public void Every_benchmark_command_line_of_docs_benchmarks_is_a_command_and_options_the_tool_has()
    {
        var file = Repository.PathOf("docs/benchmarks.md");
        var text = File.ReadAllText(file);

        var problems = DocumentationChecks.UnknownCommands(file, text, Programs).ToList();

        Assert.True(problems.Count == 0, string.Join('\n', problems));
        Assert.True(text.Split("campaign-events-bench ").Length > 4);
        Assert.Contains("--project tools/CampaignEvents.Bench -- sync", text, StringComparison.Ordinal);
    }

    [Fact]
    public void The_README_keeps_its_two_front_door_commands_in_its_quick_start()
    {
        var readme = File.ReadAllText(Repository.PathOf("README.md"));
        var quickStart = readme[readme.IndexOf("## Quick start", StringComparison.Ordinal)..];
        quickStart = quickStart[..quickStart.IndexOf("\n## ", 3, StringComparison.Ordinal)];

        Assert.Contains("bash infra/demo.sh", quickStart, StringComparison.Ordinal);
        Assert.Contains("bash infra/test.sh", quickStart, StringComparison.Ordinal);
    }

    [Fact]
    public void The_checks_report_a_broken_link_a_missing_anchor_a_missing_file_and_an_unknown_command_or_option()
    {
        var file = Repository.PathOf("README.md");
        const string broken = """
            # Title

            See [the guide](docs/no-such-guide.md), [a section](#no-such-section) and [a decision](docs/adr/0001-last-writer-wins-by-source-version.md#no-such-part).
            Run `bash infra/no-such-script.sh`, then `campaign-events status --no-such-option` and `campaign-events no-such-command`,
            `campaign-events-bench sync --no-such-option` and `dotnet run --project tools/CampaignEvents.Bench -- no-such-bench`.
            """;

        var links = DocumentationChecks.BrokenLinks(file, broken).ToList();
        var paths = DocumentationChecks.MissingPaths(file, broken).ToList();
        var commands = DocumentationChecks.UnknownCommands(file, broken, Programs).ToList();

        Assert.Equal(3, links.Count);
        Assert.Contains(links, p => p.Contains("docs/no-such-guide.md does not exist", StringComparison.Ordinal));
        Assert.Contains(links, p => p.Contains("has no heading #no-such-section", StringComparison.Ordinal));
        Assert.Contains(links, p => p.Contains("has no heading #no-such-part", StringComparison.Ordinal));
        Assert.Equal(["README.md:4: infra/no-such-script.sh does not exist in the repository"], paths);
        Assert.Equal(4, commands.Count);
        Assert.Contains(commands, p => p.EndsWith("campaign-events status has no option --no-such-option", StringComparison.Ordinal));
        Assert.Contains(commands, p => p.EndsWith("campaign-events has no command no-such-command", StringComparison.Ordinal));
        Assert.Contains(commands, p => p.EndsWith("campaign-events-bench sync has no option --no-such-option", StringComparison.Ordinal));
        Assert.Contains(commands, p => p.EndsWith("campaign-events-bench has no command no-such-bench", StringComparison.Ordinal));
    }
}
