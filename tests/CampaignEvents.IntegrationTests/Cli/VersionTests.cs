using System.Diagnostics;
using System.Text.RegularExpressions;
using CampaignEvents.TestSupport;
using Xunit;

namespace CampaignEvents.IntegrationTests.Cli;

/// <summary>`campaign-events --version` prints the release and the commit it was built from.</summary>
public sealed class VersionTests
{
    [Fact]
    public async Task Version_prints_the_release_and_the_short_commit()
    {
        var result = await CliProcess.Run(["--version"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        var version = result.Output.Trim();
        Assert.Matches(new Regex($@"^{Regex.Escape(Release)}(\+[0-9a-f]{{7}})?$"), version);

        // built from a git checkout (as the tests are), the commit is there: HEAD when built, so HEAD or one before it
        if (await Git("rev-parse", "HEAD") is { Length: >= 7 })
        {
            var commit = Assert.Single(Regex.Matches(version, @"\+(?<c>[0-9a-f]{7})$")).Groups["c"].Value;
            Assert.True(await Git("merge-base", "--is-ancestor", commit, "HEAD") is not null, $"{commit} of --version is not a commit of this checkout's history");
        }
    }

    [Fact]
    public async Task The_image_label_carries_the_release_of_the_build()
    {
        // the Dockerfile's runtime stage cannot read Directory.Build.props: its ARG VERSION repeats it
        var dockerfile = await File.ReadAllTextAsync(Repository.PathOf("Dockerfile"));
        Assert.Equal(Release, Regex.Match(dockerfile, @"^ARG VERSION=(?<v>\S+)$", RegexOptions.Multiline).Groups["v"].Value);
    }

    /// <summary>The release, from Directory.Build.props (its one home).</summary>
    public static string Release =>
        System.Xml.Linq.XDocument.Load(Repository.PathOf("Directory.Build.props")).Descendants("Version").Single().Value;

    static async Task<string?> Git(params string[] args)
    {
        try
        {
            var info = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Repository.Root };
            foreach (var arg in args)
            {
                info.ArgumentList.Add(arg);
            }

            using var git = Process.Start(info)!;
            var output = await git.StandardOutput.ReadToEndAsync();
            await git.WaitForExitAsync();
            return git.ExitCode == 0 ? output.Trim() : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
