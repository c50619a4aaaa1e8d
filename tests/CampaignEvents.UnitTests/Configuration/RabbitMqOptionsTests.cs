using System.ComponentModel.DataAnnotations;
using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Infrastructure.Messaging;
using Xunit;

namespace CampaignEvents.UnitTests.Configuration;

public sealed class RabbitMqOptionsTests
{
    [Fact]
    public void Without_hosts_the_single_host_and_port_are_the_only_node()
    {
        var options = new RabbitMqOptions { Host = "broker", Port = 5673, Password = "secret" };

        Assert.False(options.IsCluster);
        Assert.Equal([("broker", 5673)], options.Nodes());
        Assert.Equal([("broker", 15672)], options.ManagementNodes());
        Assert.Equal("amqp://broker:5673/campaign-events as campaign-events", options.Describe());
    }

    [Fact]
    public void Plain_connections_try_the_nodes_in_the_configured_order_every_time()
    {
        // RabbitMQ.Client's default resolver shuffles the list: 20 tries in order would be chance once in 6^20
        var options = new RabbitMqOptions { Hosts = "a:5681,b:5682,c:5683", Password = "secret" };
        var resolver = BrokerConnection.Factory(options, "test").EndpointResolverFactory(BrokerConnection.Endpoints(options));

        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(["a:5681", "b:5682", "c:5683"], resolver.All().Select(e => $"{e.HostName}:{e.Port}"));
        }
    }

    [Fact]
    public void Hosts_list_the_nodes_in_order_with_the_port_defaulting_to_RabbitMq_Port()
    {
        var options = new RabbitMqOptions { Hosts = "10.0.0.1:5681, 10.0.0.2 ,10.0.0.3:5683", Port = 5672, Password = "secret" };

        Assert.True(options.IsCluster);
        Assert.Equal([("10.0.0.1", 5681), ("10.0.0.2", 5672), ("10.0.0.3", 5683)], options.Nodes());
        Assert.Equal(["10.0.0.1:5681", "10.0.0.2:5672", "10.0.0.3:5683"], BrokerConnection.Endpoints(options).Select(e => $"{e.HostName}:{e.Port}"));
        Assert.Equal([("10.0.0.1", 15672), ("10.0.0.2", 15672), ("10.0.0.3", 15672)], options.ManagementNodes());
        Assert.Equal("amqp://10.0.0.1:5681,10.0.0.2:5672,10.0.0.3:5683/campaign-events as campaign-events (cluster)", options.Describe());
        Assert.DoesNotContain("secret", options.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public void Management_hosts_replace_the_AMQP_hosts_for_the_management_API()
    {
        var options = new RabbitMqOptions { Hosts = "a:5681,b:5682", ManagementHosts = "a:15681,b", ManagementPort = 15999 };

        Assert.Equal([("a", 15681), ("b", 15999)], options.ManagementNodes());
    }

    [Theory]
    [InlineData("10.0.0.1:5672,")]
    [InlineData("10.0.0.1:notaport")]
    [InlineData("10.0.0.1:70000")]
    [InlineData("amqp://10.0.0.1")]
    [InlineData(":5672")]
    public void A_bad_hosts_entry_fails_validation_and_use_with_one_line_naming_the_setting(string hosts)
    {
        var options = new RabbitMqOptions { Hosts = hosts, Password = "secret" };

        var results = new List<ValidationResult>();
        Assert.False(Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true));
        var failure = Assert.Single(results);
        Assert.StartsWith("RabbitMq:Hosts has a bad entry", failure.ErrorMessage, StringComparison.Ordinal);
        var thrown = Assert.Throws<SettingsException>(() => options.Nodes());
        Assert.StartsWith("setting RabbitMq:Hosts has a bad entry", thrown.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', thrown.Message);
    }
}
