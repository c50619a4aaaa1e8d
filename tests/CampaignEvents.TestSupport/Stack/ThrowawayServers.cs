using System.Net;
using System.Net.Sockets;
using Xunit;

namespace CampaignEvents.TestSupport.Stack;

/// <summary>What the servers a test starts for itself (<see cref="ThrowawayPostgres"/>, <see cref="ThrowawayRabbitMq"/>) share.</summary>
static class ThrowawayServers
{
    /// <summary>Skips the test with the reason when the server cannot be started here, and fails it under CI=true.</summary>
    public static void Require(bool available, string why)
    {
        if (!available)
        {
            Assert.SkipWhen(Environment.GetEnvironmentVariable("CI") != "true", why);
            Assert.Fail(why);
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
