using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using CampaignEvents.TestSupport;
using CampaignEvents.TestSupport.Stack;
using Xunit;
using YamlDotNet.RepresentationModel;

namespace CampaignEvents.IntegrationTests.Hardening;

/// <summary>What the deployment files and the local stack expose (README, Hardening checklist).</summary>
public sealed class DeploymentHardeningTests
{
    [Fact]
    public void The_image_runs_as_the_unprivileged_user_app()
    {
        var lines = File.ReadAllLines(Repository.PathOf("Dockerfile")).Select(l => l.Trim()).ToList();
        var runtime = lines.FindLastIndex(l => l.StartsWith("FROM ", StringComparison.Ordinal));
        var users = lines.Skip(runtime).Where(l => l.StartsWith("USER ", StringComparison.Ordinal)).ToList();

        Assert.Equal(["USER app"], users);
        Assert.True(lines.FindIndex(runtime, l => l.StartsWith("USER ", StringComparison.Ordinal)) < lines.FindIndex(runtime, l => l.StartsWith("ENTRYPOINT", StringComparison.Ordinal)));
    }

    [Fact]
    public void Compose_publishes_every_port_on_the_hosts_loopback_only()
    {
        var yaml = new YamlStream();
        using (var reader = File.OpenText(Repository.PathOf("docker-compose.yml")))
        {
            yaml.Load(new YamlDotNet.Core.MergingParser(new YamlDotNet.Core.Parser(reader)));
        }

        var services = (YamlMappingNode)((YamlMappingNode)yaml.Documents[0].RootNode).Children[new YamlScalarNode("services")];
        var published = services.Children.Values.Cast<YamlMappingNode>()
            .Where(s => s.Children.ContainsKey(new YamlScalarNode("ports")))
            .SelectMany(s => (YamlSequenceNode)s.Children[new YamlScalarNode("ports")])
            .Select(p => p.ToString())
            .ToList();

        Assert.NotEmpty(published);
        Assert.All(published, p => Assert.StartsWith("127.0.0.1:", p, StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_servers_of_the_stack_do_not_answer_on_the_machines_other_addresses()
    {
        var stack = await TestStack.Get();
        var other = NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
        Assert.SkipWhen(other is null, "this machine has no address but loopback");
        Assert.True(Answers(IPAddress.Loopback, stack.Postgres.Port), "the check itself: PostgreSQL answers on loopback");

        foreach (var port in new[] { stack.Postgres.Port, stack.Rabbit.Port, stack.Rabbit.ManagementPort })
        {
            Assert.False(Answers(other!, port), $"port {port} answers on {other}: the stack must listen on 127.0.0.1 only");
        }
    }

    static bool Answers(IPAddress address, int port)
    {
        using var client = new TcpClient();
        try
        {
            return client.ConnectAsync(address, port).Wait(TimeSpan.FromSeconds(3));
        }
        catch (AggregateException e) when (e.InnerException is SocketException)
        {
            return false;
        }
    }
}
