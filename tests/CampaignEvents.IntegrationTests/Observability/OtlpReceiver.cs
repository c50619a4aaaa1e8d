using System.Net;
using CampaignEvents.IntegrationTests.Cli;

namespace CampaignEvents.IntegrationTests.Observability;

/// <summary>
/// The smallest OTLP/HTTP collector: accepts the protobuf posts of <c>/v1/traces</c> and
/// <c>/v1/metrics</c> on a free loopback port and keeps their bodies. OTLP strings (scope names,
/// span names, metric names) are length-delimited UTF-8 in protobuf, so a test can look for them
/// in the bytes without the generated classes.
/// </summary>
sealed class OtlpReceiver : IAsyncDisposable
{
    readonly HttpListener listener = new();
    readonly Dictionary<string, List<byte[]>> posts = [];
    readonly Task loop;

    OtlpReceiver(int port)
    {
        Port = port;
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        loop = Task.Run(Serve);
    }

    public int Port { get; }

    public string Endpoint => $"http://127.0.0.1:{Port}";

    public static OtlpReceiver Start() => new(RunProcess.FreePort());

    /// <summary>How many posts arrived on the path, and whether one of them holds <paramref name="text"/>.</summary>
    public (int Posts, bool Holds) Received(string path, string text)
    {
        var needle = System.Text.Encoding.UTF8.GetBytes(text);
        lock (posts)
        {
            var bodies = posts.GetValueOrDefault(path) ?? [];
            return (bodies.Count, bodies.Any(b => b.AsSpan().IndexOf(needle) >= 0));
        }
    }

    public string Summary()
    {
        lock (posts)
        {
            return string.Join(", ", posts.Select(p => $"{p.Key}: {p.Value.Count} posts, {p.Value.Sum(b => b.Length)} bytes"));
        }
    }

    async Task Serve()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            var path = context.Request.Url?.AbsolutePath ?? "";
            var accepted = context.Request.HttpMethod == "POST" && path is "/v1/traces" or "/v1/metrics" or "/v1/logs"
                && context.Request.ContentType == "application/x-protobuf";
            if (accepted)
            {
                lock (posts)
                {
                    (posts.TryGetValue(path, out var list) ? list : posts[path] = []).Add(body.ToArray());
                }
            }

            // an empty Export…ServiceResponse is an empty protobuf message: full success
            context.Response.StatusCode = accepted ? 200 : 404;
            context.Response.ContentType = "application/x-protobuf";
            context.Response.Close();
        }
    }

    public async ValueTask DisposeAsync()
    {
        listener.Stop();
        listener.Close();
        await loop;
    }
}
