using CampaignEvents.Infrastructure.Configuration;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace CampaignEvents.Infrastructure.Messaging;

/// <summary>
/// Plain AMQP connections (RabbitMQ.Client) for the commands that work on queues directly:
/// the start-up check, publishing a file of events, replaying the error queue. With a cluster
/// (RabbitMq:Hosts) the connection goes to the first node that answers, in the configured order.
/// </summary>
public static class BrokerConnection
{
    /// <summary>The factory; with a cluster, connect with <see cref="Endpoints(RabbitMqOptions)"/> (or <see cref="Open"/>), not its HostName.</summary>
    public static ConnectionFactory Factory(RabbitMqOptions options, string clientName) => new()
    {
        HostName = options.Host,
        Port = options.Port,
        VirtualHost = options.VirtualHost,
        UserName = options.Username,
        Password = options.Password,
        ClientProvidedName = clientName,
        RequestedConnectionTimeout = TimeSpan.FromSeconds(10),

        // RabbitMQ.Client's default resolver shuffles the list on every connect: keep the configured order
        EndpointResolverFactory = endpoints => new InOrder([.. endpoints]),
    };

    /// <summary>Every configured node (one without a cluster), in order: RabbitMQ.Client tries them until one accepts.</summary>
    public static IList<AmqpTcpEndpoint> Endpoints(RabbitMqOptions options) => Endpoints(options, BrokerTls.For(options));

    static IList<AmqpTcpEndpoint> Endpoints(RabbitMqOptions options, BrokerTls? tls) =>
        [.. options.Nodes().Select(n => tls is null ? new AmqpTcpEndpoint(n.Host, n.Port) : new AmqpTcpEndpoint(n.Host, n.Port, tls.Amqp(n.Host)))];

    /// <summary>Connects to the first node of the list that answers.</summary>
    public static Task<IConnection> Connect(RabbitMqOptions options, string clientName, CancellationToken cancel = default) =>
        Factory(options, clientName).CreateConnectionAsync(Endpoints(options), cancel);

    /// <summary>Opens a connection, or explains in one line which setting is wrong (never the password).</summary>
    public static async Task<IConnection> Open(RabbitMqOptions options, string clientName, CancellationToken cancel = default)
    {
        IConnection? connection = null;
        var tls = BrokerTls.For(options);
        try
        {
            connection = await Factory(options, clientName).CreateConnectionAsync(Endpoints(options, tls), cancel);

            // RabbitMQ accepts the connection of an administrator to a vhost that does not exist
            // and refuses only the first channel: open one to find out now.
            await using (await connection.CreateChannelAsync(cancellationToken: cancel))
            {
            }

            return connection;
        }
        catch (Exception e) when (e is BrokerUnreachableException or OperationInterruptedException)
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }

            throw new SettingsException($"cannot use the broker of settings RabbitMq:* ({options.Describe()}): {Reason(e, tls)}", e);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException && !cancel.IsCancellationRequested)
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }

            // a broker that takes the connection but never answers (overloaded, or a proxy in the way)
            throw new SettingsException($"cannot use the broker of settings RabbitMq:* ({options.Describe()}): it did not answer in time ({e.Message})", e);
        }
    }

    static string Reason(Exception e, BrokerTls? tls)
    {
        // this attempt's check refused the broker's certificate: that is the reason, however the client wrapped it
        if (tls?.Check.Failure is { } refused)
        {
            return refused;
        }

        // by priority: a TLS client wraps the broker's refusal in I/O errors, the refusal is the reason
        var causes = Causes(e).ToList();
        if (causes.OfType<AuthenticationFailureException>().Any())
        {
            return "the broker refused the user name or password (RabbitMq:Username, RabbitMq:Password)";
        }

        if (causes.OfType<OperationInterruptedException>().Any(o => o.ShutdownReason?.ReplyCode == 530))
        {
            return "the user may not use this virtual host, or it does not exist (RabbitMq:VirtualHost)";
        }

        // a TLS listener that wants a client certificate resets the connection: that is not "nothing answers"
        if (causes.OfType<System.Net.Sockets.SocketException>().FirstOrDefault() is { } socket
            && !(tls is not null && socket.SocketErrorCode is System.Net.Sockets.SocketError.ConnectionReset or System.Net.Sockets.SocketError.ConnectionAborted))
        {
            return $"nothing answers there ({socket.SocketErrorCode}); is RabbitMQ running? (bash infra/up.sh)";
        }

        if (causes.OfType<System.Security.Authentication.AuthenticationException>().FirstOrDefault() is { } handshake)
        {
            return $"the TLS handshake failed ({handshake.Message}); is RabbitMq:Port the broker's TLS listener (RabbitMq:Tls:Enabled)?";
        }

        if (tls is not null && causes.OfType<IOException>().FirstOrDefault() is { } io)
        {
            return $"the TLS connection failed ({io.Message}); is RabbitMq:Port the broker's TLS listener, does it want a client certificate (RabbitMq:Tls:ClientCertificateFile)?";
        }

        return e.InnerException?.Message ?? e.Message;
    }

    static IEnumerable<Exception> Causes(Exception e)
    {
        yield return e;
        var inners = e is AggregateException all ? all.InnerExceptions : e.InnerException is { } one ? [one] : (IEnumerable<Exception>)[];
        foreach (var cause in inners.SelectMany(Causes))
        {
            yield return cause;
        }
    }

    /// <summary>The endpoints in the order given, tried one after another until one accepts.</summary>
    sealed class InOrder(IReadOnlyList<AmqpTcpEndpoint> endpoints) : IEndpointResolver
    {
        public IEnumerable<AmqpTcpEndpoint> All() => endpoints;
    }
}
