using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using CampaignEvents.Cli.Hosting;
using CampaignEvents.IntegrationTests.Pipeline;
using CampaignEvents.TestSupport;
using CampaignEvents.TestSupport.Stack;

namespace CampaignEvents.IntegrationTests.Cli;

/// <summary>
/// `campaign-events run --role sync` as a separate process on its own database and vhost, with its
/// standard output redirected (so it logs JSON) and kept line by line, the way a container runs it.
/// </summary>
sealed class RunProcess : IAsyncDisposable
{
    readonly Process process;
    readonly StringBuilder output = new();
    readonly StringBuilder error = new();

    RunProcess(Process process)
    {
        this.process = process;
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (error) { error.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary><c>run --role sync</c> on the database and vhost, deployed as operators do (the topology as the administrator), as the sync job.</summary>
    public static async Task<RunProcess> Start(IsolatedDatabase database, IsolatedVhost vhost, IReadOnlyDictionary<string, string?> settings)
    {
        var environment = new Dictionary<string, string?>
        {
            ["ConnectionStrings__Contacts"] = database.Connection.ConnectionString,
            ["RabbitMq__Host"] = vhost.Rabbit.Host,
            ["RabbitMq__Port"] = vhost.Rabbit.Port.ToString(CultureInfo.InvariantCulture),
            ["RabbitMq__VirtualHost"] = vhost.Rabbit.VirtualHost,
            ["RabbitMq__Username"] = vhost.Rabbit.Username,
            ["RabbitMq__Password"] = vhost.Rabbit.Password,
        };
        foreach (var (key, value) in settings)
        {
            environment[key] = value;
        }

        await RoleHosts.DeclareTopology([Role.Sync], environment);
        foreach (var (key, value) in Identities.Environment(Job.Sync, database.Connection, null))
        {
            environment[key] = value;
        }

        return Start(["run", "--role", "sync"], environment);
    }

    /// <summary>The command with these arguments and this whole environment (e.g. <c>run</c> with every role).</summary>
    public static RunProcess Start(IEnumerable<string> args, IReadOnlyDictionary<string, string?> environment) =>
        new(Process.Start(CliProcess.StartInfo(args, environment)) ?? throw new InvalidOperationException("dotnet did not start"));

    public string Output { get { lock (output) { return output.ToString(); } } }

    public string Error { get { lock (error) { return error.ToString(); } } }

    public override string ToString() => $"--- stdout\n{Output}\n--- stderr\n{Error}";

    /// <summary>SIGTERM, as a container runtime stops it; waits for the exit.</summary>
    public async Task<int> Stop()
    {
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(patience.Token);
        process.WaitForExit(); // flushes the redirected output
        return process.ExitCode;
    }

    public ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }

        process.Dispose();
        return ValueTask.CompletedTask;
    }

    static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    /// <summary>The status an endpoint of the process answers (/readyz, /metrics), or null when nothing answers.</summary>
    public static async Task<HttpStatusCode?> Status(string url)
    {
        try
        {
            using var response = await Http.GetAsync(url);
            return response.StatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>A TCP port free on every interface right now.</summary>
    public static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Any, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }
}
