using System.ComponentModel.DataAnnotations;

namespace CampaignEvents.Infrastructure.Configuration;

/// <summary>Broker settings, section <c>RabbitMq</c> (environment: <c>RabbitMq__Host</c> and so on).</summary>
public sealed class RabbitMqOptions
{
    public const string Section = "RabbitMq";

    [Required(AllowEmptyStrings = false)]
    public string Host { get; set; } = "127.0.0.1";

    [Range(1, 65535)]
    public int Port { get; set; } = 5672;

    /// <summary>Port of the management plugin (dashboard and HTTP API), used by status and the tests.</summary>
    [Range(1, 65535)]
    public int ManagementPort { get; set; } = 15672;

    [Required(AllowEmptyStrings = false)]
    public string VirtualHost { get; set; } = "campaign-events";

    [Required(AllowEmptyStrings = false)]
    public string Username { get; set; } = "campaign-events";

    [Required(AllowEmptyStrings = false)]
    public string Password { get; set; } = "";

    /// <summary>Where the broker is, without credentials: safe to print.</summary>
    public string Describe() => $"amqp://{Host}:{Port}/{VirtualHost} as {Username}";
}
