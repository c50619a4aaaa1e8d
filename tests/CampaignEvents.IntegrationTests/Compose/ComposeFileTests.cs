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

    [Fact]
    public void No_password_is_written_in_the_file_every_one_is_a_secret_file()
    {
        var root = ComposeRoot();
        var declared = ((YamlMappingNode)root.Children[new YamlScalarNode("secrets")]).Children
            .ToDictionary(s => s.Key.ToString(), s => ((YamlMappingNode)s.Value).Children[new YamlScalarNode("file")].ToString());
        foreach (var (name, file) in declared)
        {
            var path = Repository.PathOf(file.Replace("${CE_SECRETS_DIR:-./infra/compose/secrets}", "infra/compose/secrets", StringComparison.Ordinal));
            Assert.True(File.Exists(path), $"secret {name}: its development file {path} is missing");
            Assert.False(string.IsNullOrWhiteSpace(File.ReadAllText(path)), $"secret {name}: {path} is empty");
        }

        var services = (YamlMappingNode)root.Children[new YamlScalarNode("services")];
        foreach (var (serviceName, serviceNode) in services.Children.Select(s => (s.Key.ToString(), (YamlMappingNode)s.Value)))
        {
            var mounted = serviceNode.Children.TryGetValue(new YamlScalarNode("secrets"), out var list)
                ? ((YamlSequenceNode)list).Select(n => n.ToString()).ToHashSet()
                : [];
            Assert.All(mounted, m => Assert.True(declared.ContainsKey(m), $"service {serviceName} mounts the undeclared secret {m}"));
            if (!serviceNode.Children.TryGetValue(new YamlScalarNode("environment"), out var environmentNode))
            {
                continue;
            }

            foreach (var (key, value) in ((YamlMappingNode)environmentNode).Children.Select(e => (e.Key.ToString(), e.Value.ToString())))
            {
                Assert.DoesNotContain("password=", value, StringComparison.OrdinalIgnoreCase);
                if (key.Contains("PASSWORD", StringComparison.OrdinalIgnoreCase))
                {
                    // a password comes from a file: a *_FILE setting (ours, the images' own) naming a mounted secret
                    Assert.True(key.EndsWith("_FILE", StringComparison.Ordinal), $"service {serviceName} passes {key} as a value, not as a file");
                    Assert.StartsWith("/run/secrets/", value);
                    Assert.Contains(value["/run/secrets/".Length..], mounted);
                }
            }
        }
    }

    static YamlMappingNode ComposeRoot()
    {
        var yaml = new YamlStream();
        using (var reader = File.OpenText(ComposeFile))
        {
            yaml.Load(new YamlDotNet.Core.MergingParser(new YamlDotNet.Core.Parser(reader)));
        }

        return (YamlMappingNode)yaml.Documents[0].RootNode;
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
