using System.Diagnostics;
using System.Text;
using System.Text.Json;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.Sync.ApplyContactChanges;
using CampaignEvents.TestSupport;
using Xunit;

namespace CampaignEvents.IntegrationTests.Contracts;

/// <summary>
/// CampaignEvents.Contracts is a NuGet package a .NET publisher can take: packed into a folder,
/// a tiny publisher project restores it from that folder alone (no other source, nothing from the
/// network) and builds, and what it serializes is what the consumer reads.
/// </summary>
public sealed class ContractsPackageTests
{
    [Fact]
    public async Task A_publisher_builds_against_the_packed_package_and_its_JSON_is_what_the_consumer_reads()
    {
        var work = Directory.CreateTempSubdirectory("campaign-events-contracts-");
        try
        {
            // the project packs from a copy of its sources, so the test leaves the repository's bin/obj alone
            var copy = Path.Combine(work.FullName, "repo");
            foreach (var file in new[] { "global.json", "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props", ".editorconfig" })
            {
                Directory.CreateDirectory(copy);
                File.Copy(Repository.PathOf(file), Path.Combine(copy, file));
            }

            CopyProject(Repository.PathOf("src/CampaignEvents.Contracts"), Path.Combine(copy, "src", "CampaignEvents.Contracts"));
            var feed = Path.Combine(work.FullName, "feed");
            var pack = await Dotnet(copy, "pack", "src/CampaignEvents.Contracts", "-c", "Release", "-o", feed);
            Assert.True(pack.ExitCode == 0, $"dotnet pack: {pack}");
            var package = Assert.Single(Directory.GetFiles(feed, "*.nupkg"));
            Assert.Equal($"CampaignEvents.Contracts.{Cli.VersionTests.Release}.nupkg", Path.GetFileName(package));
            using (var zip = System.IO.Compression.ZipFile.OpenRead(package))
            {
                var nuspec = new StreamReader(zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open()).ReadToEnd();
                Assert.Contains("<license type=\"expression\">Apache-2.0</license>", nuspec, StringComparison.Ordinal);
                Assert.Contains("<description>", nuspec, StringComparison.Ordinal);
                Assert.Contains(zip.Entries, e => e.FullName == "lib/net10.0/CampaignEvents.Contracts.xml");
            }

            // the publisher: only the folder as a source, its own packages folder (never a stale cached copy)
            var publisher = Path.Combine(work.FullName, "publisher");
            Directory.CreateDirectory(publisher);
            await File.WriteAllTextAsync(Path.Combine(publisher, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <config><add key="globalPackagesFolder" value="{Path.Combine(work.FullName, "packages")}" /></config>
                  <packageSources>
                    <clear />
                    <add key="local" value="{feed}" />
                  </packageSources>
                </configuration>
                """);
            await File.WriteAllTextAsync(Path.Combine(publisher, "Publisher.csproj"), $$"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <Nullable>enable</Nullable>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="CampaignEvents.Contracts" Version="{{Cli.VersionTests.Release}}" />
                  </ItemGroup>
                </Project>
                """);
            await File.WriteAllTextAsync(Path.Combine(publisher, "Program.cs"), """
                using System.Text.Json;
                using CampaignEvents.Contracts;

                // what a publisher hands to BasicPublishAsync(exchange, "", body): one line per message
                var changed = new ContactChanged
                {
                    EventId = Guid.Parse("6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f"),
                    CampaignId = Guid.Parse("3b9ac9ff-1c2d-4e5f-8a7b-6c5d4e3f2a1b"),
                    PhoneNumber = "+33612345678",
                    Version = 7,
                    OccurredAt = DateTimeOffset.UtcNow,
                    Metadata = JsonSerializer.SerializeToElement(new { name = "Émilie" }),
                };
                Console.WriteLine($"{ContractNames.ContactChangedExchange}\t{JsonSerializer.Serialize(changed, JsonSerializerOptions.Web)}");
                """);
            var build = await Dotnet(publisher, "build", "-c", "Release", "-o", Path.Combine(publisher, "out"));
            Assert.True(build.ExitCode == 0, $"dotnet build of the publisher: {build}");

            var run = await Dotnet(publisher, Path.Combine(publisher, "out", "Publisher.dll"));
            Assert.True(run.ExitCode == 0, run.ToString());
            var (exchange, json) = run.Output.Trim().Split('\t') is [var e, var j] ? (e, j) : throw new Xunit.Sdk.XunitException(run.ToString());
            Assert.Equal(Topology.ContactChangedExchange, exchange);
            var read = ContactEventReader.ReadBody(exchange, Encoding.UTF8.GetBytes(json), 65_536);
            var change = Assert.Single(read.Changes);
            Assert.Equal("+33612345678", change.PhoneNumber);
            Assert.Equal(7, change.Version);
            using var metadata = JsonDocument.Parse(change.Metadata!);
            Assert.Equal("Émilie", metadata.RootElement.GetProperty("name").GetString());
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    static void CopyProject(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(from, file);
            if (relative.Split(Path.DirectorySeparatorChar)[0] is "bin" or "obj")
            {
                continue;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(to, relative))!);
            File.Copy(file, Path.Combine(to, relative));
        }
    }

    static async Task<CliResult> Dotnet(string directory, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = directory,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(deadline.Token);
        return new CliResult(process.ExitCode, await output, await error);
    }
}
