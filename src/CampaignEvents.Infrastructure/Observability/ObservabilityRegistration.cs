using CampaignEvents.Infrastructure.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;

namespace CampaignEvents.Infrastructure.Observability;

public static class ObservabilityRegistration
{
    /// <summary>
    /// Logs as single lines on a terminal and as JSON otherwise (for log collectors); health checks
    /// for the given databases.
    /// </summary>
    public static IHostApplicationBuilder AddCampaignEventsLogging(this IHostApplicationBuilder builder, params string[] databases)
    {
        builder.Logging.ClearProviders();
        if (Console.IsOutputRedirected)
        {
            // log collectors sort and filter by these: an ISO 8601 UTC timestamp and the level on every line
            builder.Logging.AddJsonConsole(o =>
            {
                o.IncludeScopes = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                o.UseUtcTimestamp = true;
            });
        }
        else
        {
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.IncludeScopes = true;
                o.TimestampFormat = "HH:mm:ss ";
            });
        }

        if (builder.Configuration.GetValue(ObservabilityOptions.Section + ":" + nameof(ObservabilityOptions.MaskPhoneNumbers), defaultValue: true))
        {
            MaskPhoneNumbers(builder.Services);
        }

        // The health check service logs each failing check at Error, on every /readyz probe and every
        // publisher run, so each start (the bus is not up yet: "Not ready: not started") and each
        // probe of a starting instance would fire an error-log alert. Not ready is a state, not an
        // error: it is reported by /readyz and the campaign_events_health_ready gauge (and the
        // failures that cause it are logged where they happen), so that category stays quiet.
        builder.Logging.AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks.DefaultHealthCheckService", LogLevel.Critical);
        var health = builder.Services.AddHealthChecks();
        foreach (var name in databases)
        {
            health.Add(new HealthCheckRegistration($"database-{name.ToLowerInvariant()}", sp => new DatabaseHealthCheck(sp, name), HealthStatus.Unhealthy, ["ready"]));
        }

        return builder;
    }

    /// <summary>Puts every logger provider registered so far behind <see cref="PhoneMaskingLoggerProvider"/>.</summary>
    static void MaskPhoneNumbers(IServiceCollection services)
    {
        var providers = services.Where(d => d.ServiceType == typeof(ILoggerProvider)).ToList();
        foreach (var provider in providers)
        {
            services.Remove(provider);
        }

        services.AddSingleton<ILoggerProvider>(sp => new PhoneMaskingLoggerProvider(
            [.. providers.Select(d => (ILoggerProvider)(d.ImplementationInstance ?? d.ImplementationFactory?.Invoke(sp) ?? ActivatorUtilities.CreateInstance(sp, d.ImplementationType!)))]));
    }

    /// <summary>
    /// What <c>campaign-events run</c> serves an operator on <c>Observability:ListenAddress</c>
    /// (loopback unless set): Prometheus metrics of every <c>CampaignEvents.*</c> meter and
    /// MassTransit's, and the health endpoints; with <c>Observability:OtlpEndpoint</c>, traces and
    /// the same metrics pushed to an OpenTelemetry collector.
    /// </summary>
    /// <exception cref="SettingsException">Observability:ListenAddress is not an address to listen on, or the OTLP settings are wrong.</exception>
    public static IHostApplicationBuilder AddOperatorEndpoints(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ObservabilityOptions>()
            .BindConfiguration(ObservabilityOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        var options = new ObservabilityOptions();
        builder.Configuration.GetSection(ObservabilityOptions.Section).Bind(options);
        if (options.BindAddress() is null)
        {
            throw new SettingsException(
                $"setting Observability:ListenAddress: '{options.ListenAddress}' is not an IP address to listen on (127.0.0.1 for this machine only, 0.0.0.0 for all interfaces)");
        }

        // a second `run` on the machine (several sync consumers) keeps going without the endpoints;
        // a port found free stays held until its endpoint binds it (processes started together)
        var metricsPort = options.MetricsPort > 0 ? Reserve(options, options.MetricsPort, "MetricsPort") : null;
        var healthPort = options.HealthPort > 0 ? Reserve(options, options.HealthPort, "HealthPort") : null;
        options.MetricsPort = metricsPort is null ? 0 : options.MetricsPort;
        options.HealthPort = healthPort is null ? 0 : options.HealthPort;
        builder.Services.AddSingleton(new ReservedPorts(metricsPort, healthPort));

        // /readyz's checks as a gauge (campaign_events_health_ready), for the readiness alert
        builder.Services.AddMetrics();
        builder.Services.AddSingleton<ReadinessMetrics>();
        builder.Services.AddSingleton<IHealthCheckPublisher>(sp => sp.GetRequiredService<ReadinessMetrics>());
        builder.Services.Configure<HealthCheckPublisherOptions>(o =>
        {
            o.Delay = TimeSpan.FromSeconds(2);
            o.Period = TimeSpan.FromSeconds(10);
        });

        var otlp = OtlpExport.Read(options);
        if (otlp is { } traces)
        {
            OtlpExport.AddTraces(builder.Services, traces.Endpoint, traces.Protocol);
        }

        if (options.MetricsPort > 0 || otlp is not null)
        {
            builder.Services.AddOpenTelemetry().ConfigureResource(OtlpExport.Resource).WithMetrics(metrics =>
            {
                metrics.AddMeter(Telemetry.MeterPrefix + "*").AddMeter("MassTransit");
                if (otlp is { } push)
                {
                    OtlpExport.AddMetrics(metrics, push.Endpoint, push.Protocol);
                }

                if (options.MetricsPort > 0)
                {
                    metrics.AddPrometheusHttpListener(o =>
                    {
                        o.Host = options.ListensOnAllInterfaces ? "localhost" : options.PrefixHost();
                        o.Port = options.MetricsPort;
                        o.ConfigureHttpListener = (_, listener) =>
                        {
                            metricsPort?.Release();
                            if (options.ListensOnAllInterfaces)
                            {
                                // the exporter builds its prefix with UriBuilder, which refuses the wildcard: set it on the listener
                                listener.Prefixes.Clear();
                                listener.Prefixes.Add($"http://+:{options.MetricsPort}/");
                            }
                        };
                    });
                }
            });
        }

        if (options.HealthPort > 0)
        {
            builder.Services.AddHostedService<HealthEndpoint>();
        }

        return builder;
    }

    static PortReservation? Reserve(ObservabilityOptions options, int port, string setting)
    {
        var reservation = PortReservation.TryReserve(options.BindAddress()!, port);
        if (reservation is null)
        {
            Console.Error.WriteLine(
                $"warning: Observability:{setting}: port {port} on {options.DisplayHost()} is in use (another campaign-events run?); not served by this process. Set Observability__{setting} to a free port, or 0.");
        }

        return reservation;
    }
}
