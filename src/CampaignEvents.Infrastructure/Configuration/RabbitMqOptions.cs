using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace CampaignEvents.Infrastructure.Configuration;

/// <summary>Broker settings, section <c>RabbitMq</c> (environment: <c>RabbitMq__Host</c> and so on).</summary>
public sealed class RabbitMqOptions : IValidatableObject
{
    public const string Section = "RabbitMq";

    [Required(AllowEmptyStrings = false)]
    public string Host { get; set; } = "127.0.0.1";

    [Range(1, 65535)]
    public int Port { get; set; } = 5672;

    /// <summary>
    /// The nodes of a RabbitMQ cluster, comma-separated <c>host[:port]</c> (port defaults to
    /// <see cref="Port"/>). When set it replaces <see cref="Host"/>: a process connects to the first
    /// node that answers, in this order, and to the next one when its node goes away (docs/adr/0012).
    /// </summary>
    public string? Hosts { get; set; }

    /// <summary>Port of the management plugin (dashboard and HTTP API), used by status and the tests.</summary>
    [Range(1, 65535)]
    public int ManagementPort { get; set; } = 15672;

    /// <summary>
    /// The management API of each cluster node, comma-separated <c>host[:port]</c> (port defaults
    /// to <see cref="ManagementPort"/>); the first that answers is used. Without it: the hosts of
    /// <see cref="Hosts"/> (or <see cref="Host"/>) on <see cref="ManagementPort"/>.
    /// </summary>
    public string? ManagementHosts { get; set; }

    [Required(AllowEmptyStrings = false)]
    public string VirtualHost { get; set; } = "campaign-events";

    [Required(AllowEmptyStrings = false)]
    public string Username { get; set; } = "campaign-events";

    [Required(AllowEmptyStrings = false)]
    public string Password { get; set; } = "";

    /// <summary>AMQP over TLS (section <c>RabbitMq:Tls</c>): verification of the broker's certificate, an optional client certificate.</summary>
    public RabbitMqTlsOptions Tls { get; set; } = new();

    /// <summary>Talk to the management API over HTTPS (its TLS listener, <c>management.ssl.port</c>).</summary>
    public bool ManagementHttps { get; set; }

    /// <summary>
    /// PEM file of the CA(s) that signed the management listener's certificate; without it
    /// <see cref="RabbitMqTlsOptions.CaFile"/>, and without that the system's trust store.
    /// </summary>
    public string? ManagementCaFile { get; set; }

    /// <summary>True when <see cref="Hosts"/> names the nodes of a cluster.</summary>
    public bool IsCluster => !string.IsNullOrWhiteSpace(Hosts);

    /// <summary>The AMQP endpoints to connect to, in order; throws <see cref="SettingsException"/> naming RabbitMq:Hosts when an entry is wrong.</summary>
    public IReadOnlyList<(string Host, int Port)> Nodes() =>
        IsCluster ? Parse(Hosts!, Port, "RabbitMq:Hosts") : [(Host, Port)];

    /// <summary>The management API endpoints, in order of preference.</summary>
    public IReadOnlyList<(string Host, int Port)> ManagementNodes() =>
        !string.IsNullOrWhiteSpace(ManagementHosts) ? Parse(ManagementHosts, ManagementPort, "RabbitMq:ManagementHosts")
        : [.. Nodes().Select(n => n.Host).Distinct(StringComparer.OrdinalIgnoreCase).Select(h => (h, ManagementPort))];

    /// <summary>Where the broker is, without credentials: safe to print.</summary>
    public string Describe() => IsCluster && TryParseNodes(Hosts!, Port, out var nodes, out _)
        ? $"{Scheme}://{string.Join(',', nodes.Select(n => $"{n.Host}:{n.Port}"))}/{VirtualHost} as {Username} (cluster)"
        : $"{Scheme}://{Host}:{Port}/{VirtualHost} as {Username}";

    string Scheme => Tls.Enabled ? "amqps" : "amqp";

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (IsCluster && !TryParseNodes(Hosts!, Port, out _, out var error))
        {
            yield return new ValidationResult($"RabbitMq:Hosts {error}", [nameof(Hosts)]);
        }

        if (!string.IsNullOrWhiteSpace(ManagementHosts) && !TryParseNodes(ManagementHosts, ManagementPort, out _, out var managementError))
        {
            yield return new ValidationResult($"RabbitMq:ManagementHosts {managementError}", [nameof(ManagementHosts)]);
        }
    }

    static IReadOnlyList<(string Host, int Port)> Parse(string list, int defaultPort, string setting) =>
        TryParseNodes(list, defaultPort, out var nodes, out var error)
            ? nodes
            : throw new SettingsException($"setting {setting} {error}");

    /// <summary>Parses "host[:port],host[:port]"; the error says which entry is wrong and what a good one looks like.</summary>
    public static bool TryParseNodes(string list, int defaultPort, out IReadOnlyList<(string Host, int Port)> nodes, out string error)
    {
        var parsed = new List<(string, int)>();
        nodes = parsed;
        error = "";
        foreach (var raw in list.Split(','))
        {
            var entry = raw.Trim();
            var colon = entry.LastIndexOf(':');
            var host = colon < 0 ? entry : entry[..colon];
            var port = defaultPort;
            if (host.Length == 0 || host.Contains(' ', StringComparison.Ordinal) || host.Contains('/', StringComparison.Ordinal)
                || (colon >= 0 && (!int.TryParse(entry[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)))
            {
                error = $"has a bad entry '{entry}': give comma-separated host[:port], for example 10.0.0.1:5672,10.0.0.2:5672";
                return false;
            }

            parsed.Add((host, port));
        }

        return true;
    }
}

/// <summary>
/// Section <c>RabbitMq:Tls</c>: AMQP over TLS (RabbitMQ's <c>listeners.ssl</c>, port 5671 by
/// convention: set <c>RabbitMq:Port</c>). The broker's certificate is always verified: signed by
/// <see cref="CaFile"/> (or a CA of the system's trust store) and naming the host (docs/adr/0016).
/// </summary>
public sealed class RabbitMqTlsOptions
{
    /// <summary>Connect with TLS.</summary>
    public bool Enabled { get; set; }

    /// <summary>PEM file of the CA(s) that signed the broker's certificate; without it, the system's trust store.</summary>
    public string? CaFile { get; set; }

    /// <summary>The name the broker's certificate must carry; without it, the host connected to.</summary>
    public string? ServerName { get; set; }

    /// <summary>Client certificate (PEM with <see cref="ClientKeyFile"/>, or PKCS#12 with <see cref="ClientCertificatePassword"/>), for brokers that ask for one.</summary>
    public string? ClientCertificateFile { get; set; }

    /// <summary>PEM private key of <see cref="ClientCertificateFile"/>.</summary>
    public string? ClientKeyFile { get; set; }

    /// <summary>Password of a PKCS#12 <see cref="ClientCertificateFile"/>.</summary>
    public string? ClientCertificatePassword { get; set; }
}
