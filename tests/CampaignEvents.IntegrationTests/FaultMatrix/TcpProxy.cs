using System.Net;
using System.Net.Sockets;

namespace CampaignEvents.IntegrationTests.FaultMatrix;

/// <summary>
/// A TCP relay on loopback between a process and a server, so a test can cut every connection
/// through it at once (as a network fault does) or stall them (bytes stop flowing, the sockets
/// stay open) for a while.
/// </summary>
sealed class TcpProxy : IAsyncDisposable
{
    readonly TcpListener listener = new(IPAddress.Loopback, 0);
    readonly int target;
    readonly CancellationTokenSource stop = new();
    readonly List<(TcpClient Client, TcpClient Upstream)> open = [];
    readonly Task accepting;
    TaskCompletionSource flowing = NewGate(open: true);

    public TcpProxy(int targetPort)
    {
        target = targetPort;
        listener.Start();
        accepting = Accept();
    }

    public int Port => ((IPEndPoint)listener.LocalEndpoint).Port;

    public int Cuts { get; private set; }

    static TaskCompletionSource NewGate(bool open)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (open)
        {
            gate.SetResult();
        }

        return gate;
    }

    /// <summary>Resets every connection open now (new ones are accepted again at once).</summary>
    public int CutAll()
    {
        lock (open)
        {
            foreach (var (client, upstream) in open)
            {
                client.Client.LingerState = new LingerOption(true, 0);
                upstream.Client.LingerState = new LingerOption(true, 0);
                client.Dispose();
                upstream.Dispose();
            }

            var cut = open.Count;
            Cuts += cut;
            open.Clear();
            return cut;
        }
    }

    /// <summary>No byte moves either way for <paramref name="duration"/>; the connections stay open.</summary>
    public async Task Stall(TimeSpan duration)
    {
        flowing = NewGate(open: false);
        try
        {
            await Task.Delay(duration);
        }
        finally
        {
            flowing.TrySetResult();
        }
    }

    async Task Accept()
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = Relay(client);
        }
    }

    async Task Relay(TcpClient client)
    {
        var upstream = new TcpClient();
        try
        {
            await upstream.ConnectAsync(IPAddress.Loopback, target, stop.Token);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            client.Dispose();
            upstream.Dispose();
            return;
        }

        lock (open)
        {
            open.Add((client, upstream));
        }

        await Task.WhenAny(Pump(client, upstream), Pump(upstream, client));
        lock (open)
        {
            open.Remove((client, upstream));
        }

        client.Dispose();
        upstream.Dispose();
    }

    async Task Pump(TcpClient from, TcpClient to)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            var input = from.GetStream();
            var output = to.GetStream();
            while (true)
            {
                var read = await input.ReadAsync(buffer, stop.Token);
                if (read == 0)
                {
                    return;
                }

                // a stall holds the bytes here; the peers see a silent connection
                await flowing.Task.WaitAsync(stop.Token);
                await output.WriteAsync(buffer.AsMemory(0, read), stop.Token);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
            // the connection ended (or was cut): the relay closes both sides
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        listener.Stop();
        CutAll();
        await accepting;
        stop.Dispose();
    }
}
