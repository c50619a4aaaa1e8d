using CampaignEvents.Cli;
using CampaignEvents.TestSupport;
using Xunit;

namespace CampaignEvents.Bench.Tests;

/// <summary>The benchmarks are a tool apart (docs/adr/0018): the program, its package and its image carry none of them.</summary>
public sealed class ProductApartTests
{
    [Fact]
    public void The_program_has_no_benchmark_command_and_the_tool_has_them_all()
    {
        Assert.DoesNotContain(CliRoot.Create().Subcommands, c => c.Name == "bench");
        Assert.Equal(["sync", "initial-sync", "streaming", "reconcile"], BenchRoot.Create().Subcommands.Select(c => c.Name));
    }

    [Fact]
    public void Nothing_of_the_product_references_the_tools_and_the_image_builds_only_src()
    {
        foreach (var project in Directory.EnumerateFiles(Repository.PathOf("src"), "*.csproj", SearchOption.AllDirectories))
        {
            Assert.DoesNotContain("tools/", File.ReadAllText(project), StringComparison.Ordinal);
        }

        var dockerfile = File.ReadAllText(Repository.PathOf("Dockerfile"));
        Assert.DoesNotContain("tools/", dockerfile, StringComparison.Ordinal);
        Assert.Contains("dotnet publish src/CampaignEvents.Cli", dockerfile, StringComparison.Ordinal);
    }
}
