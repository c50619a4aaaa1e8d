using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Sync.Configuration;
using Microsoft.Extensions.Configuration;
using Xunit;

namespace CampaignEvents.UnitTests.Configuration;

/// <summary>
/// The one validated path of every command (<see cref="Settings.Valid{T}"/>): a wrong value is one
/// line that names the setting and leaves the value out.
/// </summary>
public sealed class SettingsTests
{
    /// <summary>The settings given, a later value of a key over an earlier one.</summary>
    static IConfiguration With(params (string Key, string Value)[] values)
    {
        var settings = new Dictionary<string, string?>();
        foreach (var (key, value) in values)
        {
            settings[key] = value;
        }

        return new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
    }

    [Theory]
    [InlineData("RabbitMq:Port", "abc", "setting RabbitMq:Port is not a valid whole number")]
    [InlineData("RabbitMq:Port", "70000", "setting RabbitMq:Port must be between 1 and 65535")]
    [InlineData("RabbitMq:Tls:Enabled", "maybe", "setting RabbitMq:Tls:Enabled is not a valid boolean (true or false)")]
    [InlineData("RabbitMq:Hosts", "a:1,b/c", "setting RabbitMq:Hosts has a bad entry 'b/c'")]
    [InlineData("RabbitMq:Password", "", "setting RabbitMq:Password is missing: set the environment variable RabbitMq__Password, or RabbitMq__Password_FILE")]
    public void A_wrong_broker_setting_is_one_line_naming_it(string key, string value, string line)
    {
        var configuration = With(("RabbitMq:Password", "s3cret"), (key, value));

        var e = Assert.Throws<SettingsException>(configuration.RabbitMq);

        Assert.StartsWith(line, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_value_that_does_not_convert_is_left_out_of_the_line()
    {
        var configuration = With(("RabbitMq:Password", "x"), ("RabbitMq:ManagementPort", "not-my-password"));

        var e = Assert.Throws<SettingsException>(configuration.RabbitMq);

        Assert.Equal("setting RabbitMq:ManagementPort is not a valid whole number", e.Message);
    }

    [Fact]
    public void The_rules_of_a_section_are_checked_as_the_host_checks_them()
    {
        var configuration = With(("Sync:PrefetchCount", "10"), ("Sync:BatchMessageLimit", "100"));

        var e = Assert.Throws<SettingsException>(() => configuration.Valid(SyncOptions.Section, new SyncOptionsValidation()));

        Assert.StartsWith("setting Sync:PrefetchCount (10) must be at least Sync:BatchMessageLimit (100)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Good_settings_are_bound()
    {
        var rabbit = With(("RabbitMq:Password", "x"), ("RabbitMq:Port", "5671"), ("RabbitMq:VirtualHost", "v")).RabbitMq();

        Assert.Equal((5671, "v"), (rabbit.Port, rabbit.VirtualHost));
    }
}
