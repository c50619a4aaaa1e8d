using System.Net;
using System.Net.Sockets;

namespace CampaignEvents.Infrastructure.Observability;

/// <summary>
/// A port an endpoint of this process (metrics, health) listens on later, held by a listening
/// socket from the moment the settings are read until the endpoint starts. Two processes started
/// together (several <c>run --role sync</c> on one machine) could otherwise both find the port
/// free and then race for it, and the loser's metrics listener stopped the host at start.
/// </summary>
internal sealed class PortReservation : IDisposable
{
    TcpListener? held;

    PortReservation(TcpListener held)
    {
        this.held = held;
        Port = ((IPEndPoint)held.LocalEndpoint).Port;
    }

    /// <summary>The port held (the one the system chose when 0 was asked).</summary>
    public int Port { get; }

    /// <summary>The reservation, or null when another process already listens on the port.</summary>
    public static PortReservation? TryReserve(IPAddress address, int port)
    {
        var listener = new TcpListener(address, port);
        try
        {
            listener.Start();
            return new PortReservation(listener);
        }
        catch (SocketException)
        {
            listener.Dispose();
            return null;
        }
    }

    /// <summary>Lets the port go, right before the endpoint binds it itself.</summary>
    public void Release() => Interlocked.Exchange(ref held, null)?.Stop();

    public void Dispose() => Release();
}

/// <summary>The ports of this process's endpoints, reserved at registration (null: not served).</summary>
internal sealed record ReservedPorts(PortReservation? Metrics, PortReservation? Health);
