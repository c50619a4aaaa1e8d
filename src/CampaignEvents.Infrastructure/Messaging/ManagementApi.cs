using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using CampaignEvents.Infrastructure.Configuration;

namespace CampaignEvents.Infrastructure.Messaging;

/// <summary>The RabbitMQ management API (the dashboard's port), for status, the demo, benchmarks and tests.</summary>
public static class ManagementApi
{
    /// <summary>
    /// A client of the management API of the configured broker, authenticated as its user. On a
    /// cluster every node serves the whole cluster's view: the first node (RabbitMq:ManagementHosts,
    /// else the AMQP hosts) that accepts a connection is used, so status still answers with a node down.
    /// </summary>
    public static HttpClient Client(RabbitMqOptions rabbit)
    {
        var nodes = rabbit.ManagementNodes();
        var (host, port) = nodes.Count == 1 ? nodes[0] : nodes.FirstOrDefault(Answers, nodes[0]);
        var (handler, check) = BrokerTls.ManagementHandler(rabbit);
        var client = new HttpClient(check is null ? handler : new ExplainRefusedCertificate(handler, check))
        {
            BaseAddress = new Uri($"{(rabbit.ManagementHttps ? "https" : "http")}://{host}:{port}/"),
            Timeout = TimeSpan.FromSeconds(30),
        };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{rabbit.Username}:{rabbit.Password}")));
        return client;
    }

    /// <summary>A refused certificate surfaces as an HttpRequestException that says why, naming the setting.</summary>
    sealed class ExplainRefusedCertificate(HttpMessageHandler inner, CertificateCheck check) : DelegatingHandler(inner)
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            try
            {
                return await base.SendAsync(request, cancellationToken);
            }
            catch (HttpRequestException e) when (check.Failure is { } refused && e.InnerException is System.Security.Authentication.AuthenticationException)
            {
                throw new HttpRequestException($"HTTPS refused: {refused}", e);
            }
        }
    }

    static bool Answers((string Host, int Port) node)
    {
        try
        {
            using var client = new TcpClient();
            return client.ConnectAsync(node.Host, node.Port).Wait(TimeSpan.FromSeconds(2));
        }
        catch (AggregateException e) when (e.InnerException is SocketException)
        {
            return false;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
