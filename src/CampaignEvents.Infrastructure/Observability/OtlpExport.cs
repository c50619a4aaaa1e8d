using System.Reflection;
using CampaignEvents.Infrastructure.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace CampaignEvents.Infrastructure.Observability;

/// <summary>
/// The optional OTLP export (<c>Observability:OtlpEndpoint</c>): traces of MassTransit (send,
/// receive, consume) and Npgsql (one span per command), and the same metrics Prometheus scrapes,
/// to an OpenTelemetry collector. Off unless the endpoint is set.
/// </summary>
static class OtlpExport
{
    public const string ServiceName = "campaign-events";

    /// <summary>The endpoint and protocol to use, or null when the export is off.</summary>
    /// <exception cref="SettingsException">The endpoint is not an http(s) address or the protocol is unknown.</exception>
    public static (Uri Endpoint, OtlpExportProtocol Protocol)? Read(ObservabilityOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.OtlpEndpoint))
        {
            return null;
        }

        if (!Uri.TryCreate(options.OtlpEndpoint.Trim(), UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
        {
            throw new SettingsException(
                $"setting Observability:OtlpEndpoint: '{options.OtlpEndpoint}' is not an http(s) address of an OpenTelemetry collector (e.g. http://127.0.0.1:4318)");
        }

        var protocol = options.OtlpProtocol.Trim().ToLowerInvariant() switch
        {
            "http/protobuf" or "http" => OtlpExportProtocol.HttpProtobuf,
            "grpc" => OtlpExportProtocol.Grpc,
            _ => throw new SettingsException($"setting Observability:OtlpProtocol: '{options.OtlpProtocol}' is not http/protobuf or grpc"),
        };
        return (endpoint, protocol);
    }

    /// <summary>Traces of MassTransit and Npgsql, exported over OTLP.</summary>
    public static void AddTraces(IServiceCollection services, Uri endpoint, OtlpExportProtocol protocol) =>
        services.AddOpenTelemetry()
            .WithTracing(tracing => tracing
                .AddSource("MassTransit")
                .AddNpgsql()
                .AddOtlpExporter(o => Configure(o, endpoint, protocol, "v1/traces")));

    /// <summary>The metrics reader that pushes every metric Prometheus scrapes to the collector.</summary>
    public static void AddMetrics(MeterProviderBuilder metrics, Uri endpoint, OtlpExportProtocol protocol) =>
        metrics.AddOtlpExporter(o => Configure(o, endpoint, protocol, "v1/metrics"));

    public static void Resource(ResourceBuilder resource) =>
        resource.AddService(
            ServiceName,
            serviceVersion: typeof(OtlpExport).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion,
            serviceInstanceId: $"{Environment.MachineName}:{Environment.ProcessId}");

    static void Configure(OtlpExporterOptions options, Uri endpoint, OtlpExportProtocol protocol, string signalPath)
    {
        options.Protocol = protocol;
        // set in code, the HTTP endpoint is taken as the signal's full address: add the signal's path
        // as the OTEL_EXPORTER_OTLP_ENDPOINT convention does; gRPC takes the base address
        options.Endpoint = protocol == OtlpExportProtocol.HttpProtobuf
            ? new Uri(endpoint.AbsoluteUri.TrimEnd('/') + "/" + signalPath)
            : endpoint;
    }
}
