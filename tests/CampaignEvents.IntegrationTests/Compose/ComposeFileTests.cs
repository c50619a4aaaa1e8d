using System.Diagnostics;
using CampaignEvents.Cli;
using CampaignEvents.Cli.Hosting;
using CampaignEvents.TestSupport;
using Xunit;
using YamlDotNet.RepresentationModel;

namespace CampaignEvents.IntegrationTests.Compose;

/// <summary>
/// docker-compose.yml is what CI brings up where a Docker engine answers: it must be valid, and
/// every campaign-events service must run a command and read settings that the program has.
/// </summary>
public sealed class ComposeFileTests
{
    static readonly string ComposeFile = Repository.PathOf("docker-compose.yml");

    [Fact]
    public async Task Docker_compose_accepts_the_file()
    {
        var compose = FindDockerCompose();
        var info = new ProcessStartInfo(compose, ["-f", ComposeFile, "config", "-q"])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            WorkingDirectory = Repository.Root,
        };
        using var process = Process.Start(info)!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.True(process.ExitCode == 0, $"{compose} config -q failed: {error}");
    }

    [Fact]
    public async Task Docker_compose_accepts_the_observability_profile_with_Prometheus_and_Grafana()
    {
        var compose = FindDockerCompose();
        var info = new ProcessStartInfo(compose, ["-f", ComposeFile, "--profile", "run", "--profile", "observability", "config", "--services"])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            WorkingDirectory = Repository.Root,
        };
        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.True(process.ExitCode == 0, $"{compose} --profile observability config failed: {error}");
        var services = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Contains("prometheus", services);
        Assert.Contains("grafana", services);
        Assert.Contains("pipeline", services);
    }

    [Fact]
    public void Every_file_compose_mounts_is_in_the_repository()
    {
        var yaml = new YamlStream();
        using (var reader = File.OpenText(ComposeFile))
        {
            yaml.Load(new YamlDotNet.Core.MergingParser(new YamlDotNet.Core.Parser(reader)));
        }

        var services = (YamlMappingNode)((YamlMappingNode)yaml.Documents[0].RootNode).Children[new YamlScalarNode("services")];
        var mounts = services.Children.Values.Cast<YamlMappingNode>()
            .Where(s => s.Children.ContainsKey(new YamlScalarNode("volumes")))
            .SelectMany(s => (YamlSequenceNode)s.Children[new YamlScalarNode("volumes")])
            .Select(v => v.ToString().Split(':')[0])
            .Where(source => source.StartsWith("./", StringComparison.Ordinal))
            .ToList();
        Assert.Contains("./infra/compose/observability/alerts.yml", mounts);
        Assert.Contains("./infra/compose/observability/grafana/dashboards", mounts);
        Assert.Contains("./infra/compose/enabled_plugins", mounts);
        Assert.All(mounts, source => Assert.True(File.Exists(Repository.PathOf(source)) || Directory.Exists(Repository.PathOf(source)), $"compose mounts {source}, which is not in the repository"));
    }

    [Fact]
    public void Every_service_of_the_program_runs_a_command_the_program_has()
    {
        var services = AppServices();
        Assert.Contains("demo", services.Keys);
        foreach (var (name, service) in services)
        {
            var command = ((YamlSequenceNode)service.Children[new YamlScalarNode("command")]).Select(n => n.ToString()).ToArray();
            var parse = CliRoot.Create().Parse(command);
            Assert.True(parse.Errors.Count == 0, $"service {name}: campaign-events {string.Join(' ', command)}: {string.Join("; ", parse.Errors.Select(e => e.Message))}");
        }
    }

    [Fact]
    public void Every_setting_a_service_passes_is_read_by_the_program()
    {
        foreach (var (name, service) in AppServices())
        {
            var environment = (YamlMappingNode)service.Children[new YamlScalarNode("environment")];
            foreach (var key in environment.Children.Keys.Select(k => k.ToString()))
            {
                Assert.True(SettingsCatalog.IsKnown(key), $"service {name} sets {key}, which campaign-events does not read");
            }
        }
    }

    /// <summary>The services built from this repository's Dockerfile, with the x-app anchor merged.</summary>
    static Dictionary<string, YamlMappingNode> AppServices()
    {
        var yaml = new YamlStream();
        using (var reader = File.OpenText(ComposeFile))
        {
            yaml.Load(new YamlDotNet.Core.MergingParser(new YamlDotNet.Core.Parser(reader)));
        }

        var services = (YamlMappingNode)((YamlMappingNode)yaml.Documents[0].RootNode).Children[new YamlScalarNode("services")];
        return services.Children
            .Where(s => ((YamlMappingNode)s.Value).Children.ContainsKey(new YamlScalarNode("build")))
            .ToDictionary(s => s.Key.ToString(), s => (YamlMappingNode)s.Value);
    }

    static string FindDockerCompose()
    {
        foreach (var candidate in new[] { "/usr/bin/docker-compose", "/usr/local/bin/docker-compose" })
        {
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException("docker-compose is not installed (infra/test.sh installs Debian's docker-compose)");
        }

        Assert.Skip("docker-compose is not installed: apt-get install docker-compose, or run bash infra/test.sh");
        return "";
    }
}
