using System.ComponentModel.DataAnnotations;
using System.Net;

namespace CampaignEvents.Infrastructure.Observability;

/// <summary>Section <c>Observability</c>: where <c>campaign-events run</c> serves metrics and health.</summary>
public sealed class ObservabilityOptions
{
    public const string Section = "Observability";

    /// <summary>
    /// The address metrics and health listen on: <c>127.0.0.1</c> (this machine only, the default
    /// for a workstation), another local address, or <c>0.0.0.0</c> (also <c>*</c>) for all IPv4
    /// interfaces, which the container image sets so probes and scrapes reach the process.
    /// </summary>
    public string ListenAddress { get; set; } = "127.0.0.1";

    /// <summary>Prometheus scrape endpoint <c>http://{ListenAddress}:{MetricsPort}/metrics</c>; 0 turns it off.</summary>
    [Range(0, 65535)]
    public int MetricsPort { get; set; } = 9464;

    /// <summary>Health endpoints <c>/healthz</c> (alive) and <c>/readyz</c> (servers reachable); 0 turns them off.</summary>
    [Range(0, 65535)]
    public int HealthPort { get; set; } = 9465;

    /// <summary>
    /// An OpenTelemetry collector to send traces (MassTransit's and Npgsql's activities) and the
    /// metrics to, over OTLP: the collector's base address (<c>http://collector:4318</c> for
    /// OTLP/HTTP, <c>http://collector:4317</c> for gRPC). Empty (the default): nothing is sent.
    /// </summary>
    public string OtlpEndpoint { get; set; } = "";

    /// <summary><c>http/protobuf</c> (the default; <c>/v1/traces</c> and <c>/v1/metrics</c> under <see cref="OtlpEndpoint"/>) or <c>grpc</c>.</summary>
    public string OtlpProtocol { get; set; } = "http/protobuf";

    /// <summary>
    /// Mask phone numbers in every log line (<c>+44********56</c>, docs/adr/0016); <c>false</c> logs
    /// them whole, for debugging. The error queues keep the messages whole either way.
    /// </summary>
    public bool MaskPhoneNumbers { get; set; } = true;

    /// <summary>True when <see cref="ListenAddress"/> means every interface.</summary>
    public bool ListensOnAllInterfaces => ListenAddress.Trim() is "*" or "+" || (IPAddress.TryParse(ListenAddress.Trim(), out var a) && a.Equals(IPAddress.Any));

    /// <summary>The address to bind, or null when <see cref="ListenAddress"/> is not an IPv4 address, <c>*</c>, or a loopback IPv6 address.</summary>
    public IPAddress? BindAddress() =>
        ListensOnAllInterfaces ? IPAddress.Any
        : IPAddress.TryParse(ListenAddress.Trim(), out var address) && address.ToString() == ListenAddress.Trim() ? address
        : null;

    /// <summary>The host part of an HttpListener prefix: the strong wildcard <c>+</c> for all interfaces (any Host header is answered).</summary>
    public string PrefixHost() =>
        ListensOnAllInterfaces ? "+"
        : BindAddress() is { AddressFamily: System.Net.Sockets.AddressFamily.InterNetworkV6 } v6 ? $"[{v6}]"
        : BindAddress()!.ToString();

    /// <summary>How an operator reaches the endpoints (for the log).</summary>
    public string DisplayHost() => ListensOnAllInterfaces ? "0.0.0.0" : PrefixHost();
}
