using CampaignEvents.Cli;
using CampaignEvents.TestSupport;
using Xunit;
using YamlDotNet.RepresentationModel;

namespace CampaignEvents.IntegrationTests.Compose;

/// <summary>
/// What a Docker user runs without a Docker engine here: the GitHub workflow is valid for a
/// workflow validator from npm; the Dockerfile probes, exposes and labels the image; compose pins
/// its images and its long-running services have healthchecks that depends_on waits for.
/// </summary>
public sealed class DeploymentFileTests
{
    static readonly string Workflow = Repository.PathOf(".github/workflows/ci.yml");

    [Fact]
    public async Task The_CI_workflow_is_valid_for_action_validator()
    {
        var validator = await NpmTools.Bin("action-validator");
        var result = await NpmTools.Run(validator, [Workflow]);

        Assert.True(result.ExitCode == 0, $"action-validator {Workflow}: {result}");
    }

    [Fact]
    public async Task Action_validator_refuses_a_broken_workflow_so_the_check_bites()
    {
        var validator = await NpmTools.Bin("action-validator");
        var broken = Path.Combine(Path.GetTempPath(), $"campaign-events-broken-{Guid.NewGuid():N}.yml");
        await File.WriteAllTextAsync(broken, File.ReadAllText(Workflow).Replace("    runs-on:", "    runs_on:", StringComparison.Ordinal));
        try
        {
            var result = await NpmTools.Run(validator, [broken]);
            Assert.True(result.ExitCode != 0, $"a workflow with runs_on passed: {result}");
        }
        finally
        {
            File.Delete(broken);
        }
    }

    [Fact]
    public void The_workflow_has_the_test_command_job_and_the_compose_job()
    {
        var text = File.ReadAllText(Workflow);
        Assert.Contains("bash infra/test.sh", text, StringComparison.Ordinal);
        Assert.Contains("docker compose up --build --exit-code-from demo", text, StringComparison.Ordinal);
        Assert.Contains("ConnectionStrings__Contacts", text, StringComparison.Ordinal);
    }

    [Fact]
    public void The_Dockerfile_restores_in_its_own_layer_probes_exposes_and_labels()
    {
        var lines = File.ReadAllLines(Repository.PathOf("Dockerfile")).Select(l => l.Trim()).ToList();
        var restore = lines.FindIndex(l => l.StartsWith("RUN dotnet restore", StringComparison.Ordinal));
        var sources = lines.FindIndex(l => l.StartsWith("COPY src/ ", StringComparison.Ordinal));
        Assert.True(restore >= 0 && sources > restore, "dotnet restore runs before the sources are copied (a layer that caches)");

        // every project the CLI needs has its project file copied before restore
        foreach (var project in Directory.GetFiles(Repository.PathOf("src"), "*.csproj", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(Repository.Root, project).Replace('\\', '/');
            Assert.Contains(lines.Take(restore), l => l.StartsWith($"COPY {relative} ", StringComparison.Ordinal));
        }

        Assert.Contains(lines, l => l.StartsWith("EXPOSE 9464 9465", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("Observability__ListenAddress=0.0.0.0", StringComparison.Ordinal));
        foreach (var label in new[] { "title", "description", "version", "revision", "created", "licenses", "documentation" })
        {
            Assert.Contains(lines, l => l.Contains($"org.opencontainers.image.{label}=", StringComparison.Ordinal));
        }

        // the HEALTHCHECK runs a command the program has
        var check = string.Join(' ', lines.SkipWhile(l => !l.StartsWith("HEALTHCHECK", StringComparison.Ordinal)).Take(2));
        var command = System.Text.Json.JsonSerializer.Deserialize<string[]>(check[check.IndexOf('[', StringComparison.Ordinal)..(check.IndexOf(']', StringComparison.Ordinal) + 1)])!;
        Assert.Equal("/app/campaign-events", command[0]);
        var parse = CliRoot.Create().Parse(command[1..]);
        Assert.True(parse.Errors.Count == 0, string.Join("; ", parse.Errors.Select(e => e.Message)));
    }

    [Fact]
    public void Compose_pins_supported_images_and_waits_for_healthy_services()
    {
        var yaml = new YamlStream();
        using (var reader = File.OpenText(Repository.PathOf("docker-compose.yml")))
        {
            yaml.Load(new YamlDotNet.Core.MergingParser(new YamlDotNet.Core.Parser(reader)));
        }

        var services = ((YamlMappingNode)((YamlMappingNode)yaml.Documents[0].RootNode).Children[new YamlScalarNode("services")]).Children
            .ToDictionary(s => s.Key.ToString(), s => (YamlMappingNode)s.Value);
        string? Image(string service) => services[service].Children.TryGetValue(new YamlScalarNode("image"), out var image) ? image.ToString() : null;

        Assert.Matches(@"^rabbitmq:4\.\d+(\.\d+)?-management$", Image("rabbitmq"));
        Assert.Matches(@"^postgres:15\.\d+$", Image("postgres"));
        Assert.Matches(@"^postgres:15\.\d+$", Image("source-postgres"));

        // long-running services: the servers and the pipeline
        foreach (var name in new[] { "postgres", "source-postgres", "rabbitmq", "pipeline" })
        {
            var check = (YamlMappingNode)services[name].Children[new YamlScalarNode("healthcheck")];
            Assert.True(check.Children.ContainsKey(new YamlScalarNode("test")), $"service {name} has no healthcheck test");
        }

        foreach (var (name, service) in services)
        {
            if (!service.Children.TryGetValue(new YamlScalarNode("depends_on"), out var node))
            {
                continue;
            }

            foreach (var (dependency, condition) in ((YamlMappingNode)node).Children)
            {
                var expected = services[dependency.ToString()].Children.ContainsKey(new YamlScalarNode("command"))
                    && ((YamlSequenceNode)services[dependency.ToString()].Children[new YamlScalarNode("command")]).First().ToString() == "migrate"
                    ? "service_completed_successfully"
                    : "service_healthy";
                Assert.Equal(expected, ((YamlMappingNode)condition).Children[new YamlScalarNode("condition")].ToString());
            }
        }
    }

    [Fact]
    public void The_env_example_names_only_variables_compose_uses()
    {
        var compose = File.ReadAllText(Repository.PathOf("docker-compose.yml"));
        var variables = File.ReadAllLines(Repository.PathOf(".env.example"))
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l[..l.IndexOf('=', StringComparison.Ordinal)]);
        Assert.All(variables, v => Assert.Contains("${" + v + ":-", compose, StringComparison.Ordinal));
    }
}
