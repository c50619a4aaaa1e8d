using System.Net;
using System.Net.Sockets;
using CampaignEvents.Infrastructure.Observability;
using Xunit;

namespace CampaignEvents.UnitTests.Observability;

/// <summary>
/// Two `run` processes started together on one machine: the second must find the metrics and health
/// ports taken from the moment the first read its settings, not only once its listeners started
/// (the loser of that race stopped at start with a stack trace).
/// </summary>
public sealed class PortReservationTests
{
    [Fact]
    public void A_reserved_port_is_refused_to_a_second_reservation_until_it_is_released()
    {
        using var first = PortReservation.TryReserve(IPAddress.Loopback, 0);
        Assert.NotNull(first);
        var port = first.Port;

        Assert.Null(PortReservation.TryReserve(IPAddress.Loopback, port));

        first.Release();
        using var endpoint = new TcpListener(IPAddress.Loopback, port);
        endpoint.Start();
        Assert.Null(PortReservation.TryReserve(IPAddress.Loopback, port));
    }

    [Fact]
    public void Releasing_twice_is_harmless()
    {
        using var reservation = PortReservation.TryReserve(IPAddress.Loopback, 0);
        Assert.NotNull(reservation);
        reservation.Release();
        reservation.Release();
    }
}
