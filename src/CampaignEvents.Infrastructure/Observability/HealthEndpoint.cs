using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CampaignEvents.Infrastructure.Observability;

/// <summary>
/// Serves <c>/healthz</c> (the process is alive) and <c>/readyz</c> (every health check passes:
/// databases, broker, replication slot) as JSON on <c>Observability:ListenAddress</c>, for operators
/// and orchestrators (the container image's HEALTHCHECK asks <c>/readyz</c> through <c>campaign-events health</c>).
/// </summary>
sealed partial class HealthEndpoint(HealthCheckService checks, IOptions<ObservabilityOptions> options, ReservedPorts ports, ILogger<HealthEndpoint> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://{options.Value.PrefixHost()}:{options.Value.HealthPort}/");
        try
        {
            ports.Health?.Release();
            listener.Start();
        }
        catch (HttpListenerException e)
        {
            LogNotServed(options.Value.HealthPort, e.Message);
            return;
        }

        LogServing(options.Value.DisplayHost(), options.Value.HealthPort);
        using var registration = stoppingToken.Register(listener.Stop);
        while (!stoppingToken.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }

            // each request on its own: a slow /readyz must not hold /healthz, a client that hangs up must not stop the host
            _ = Task.Run(async () =>
            {
                try
                {
                    await Answer(context, stoppingToken);
                }
                catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException or OperationCanceledException)
                {
                    LogNotAnswered(e.Message);
                }
            }, stoppingToken);
        }
    }

    async Task Answer(HttpListenerContext context, CancellationToken cancel)
    {
        using var response = context.Response;
        response.ContentType = "application/json";
        switch (context.Request.Url?.AbsolutePath)
        {
            case "/healthz":
                await JsonSerializer.SerializeAsync(response.OutputStream, new { status = "alive" }, cancellationToken: cancel);
                break;
            case "/readyz":
                var report = await checks.CheckHealthAsync(cancel);
                response.StatusCode = report.Status == HealthStatus.Healthy ? 200 : 503;
                await JsonSerializer.SerializeAsync(response.OutputStream, new
                {
                    status = report.Status.ToString(),
                    checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), description = e.Value.Description ?? e.Value.Exception?.Message }),
                }, cancellationToken: cancel);
                break;
            default:
                response.StatusCode = 404;
                break;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Health endpoint not served: port {Port} ({Reason}); set Observability:HealthPort")]
    partial void LogNotServed(int port, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Health on http://{Host}:{Port}/healthz and /readyz")]
    partial void LogServing(string host, int port);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Health request not answered: {Reason}")]
    partial void LogNotAnswered(string reason);
}
