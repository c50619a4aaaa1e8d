using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace CampaignEvents.Bench;

/// <summary>
/// One <c>campaign-events run --role sync</c> as a separate OS process, the way an operator adds a
/// consumer: its settings come from the environment, its log goes to a file, its readiness and
/// its applied rows are read from its own health and metrics endpoints (on ports of its own).
/// </summary>
sealed class ConsumerProcess : IAsyncDisposable
{
    // generous: on two busy cores a process that is starting may take seconds to answer
    static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    readonly Process process;
    readonly int metricsPort;
    readonly int healthPort;
    readonly Task logging;

    public string LogFile { get; }

    public int Id => process.Id;

    ConsumerProcess(Process process, int metricsPort, int healthPort, string logFile, Task logging)
    {
        this.process = process;
        this.metricsPort = metricsPort;
        this.healthPort = healthPort;
        LogFile = logFile;
        this.logging = logging;
    }

    /// <summary>Starts <paramref name="cli"/> as <c>run --role sync</c> (or the roles given) with <paramref name="settings"/> over the inherited environment.</summary>
    public static ConsumerProcess Start(CampaignEventsProgram cli, IReadOnlyDictionary<string, string> settings, string logFile, params string[] roles)
    {
        var info = cli.StartInfo();
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        foreach (var arg in (string[])["run", .. (roles.Length == 0 ? ["sync"] : roles).SelectMany(r => new[] { "--role", r })])
        {
            info.ArgumentList.Add(arg);
        }

        var metricsPort = FreePort();
        var healthPort = FreePort();
        foreach (var (key, value) in settings)
        {
            info.Environment[key] = value;
        }

        info.Environment["Observability__ListenAddress"] = "127.0.0.1";
        info.Environment["Observability__MetricsPort"] = metricsPort.ToString(CultureInfo.InvariantCulture);
        info.Environment["Observability__HealthPort"] = healthPort.ToString(CultureInfo.InvariantCulture);
        var process = Process.Start(info) ?? throw new InvalidOperationException($"{cli} did not start");
        var log = new StreamWriter(logFile) { AutoFlush = true };
        var logging = Task.WhenAll(Copy(process.StandardOutput, log), Copy(process.StandardError, log)).ContinueWith(_ => log.Dispose(), TaskScheduler.Default);
        return new ConsumerProcess(process, metricsPort, healthPort, logFile, logging);
    }

    /// <summary>Waits until its <c>/readyz</c> answers 200 (database and broker reached, consumers started).</summary>
    public async Task Ready(TimeSpan deadline, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            Exited();
            try
            {
                using var response = await Http.GetAsync(new Uri($"http://127.0.0.1:{healthPort}/readyz"), cancel);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
            {
                // a slow answer while it starts
            }

            if (clock.Elapsed > deadline)
            {
                throw new InvalidOperationException($"consumer process {Id} was not ready within {deadline.TotalSeconds:0} s; see {LogFile}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), cancel);
        }
    }

    /// <summary>Its peak resident set (VmHWM) in MiB so far, or null.</summary>
    public double? PeakRssMiB() => ProcStat.PeakRssMiB(Id);

    /// <summary>The rows its sync consumer upserted in committed batches (its counter campaign_events.sync.applied_rows); null when it did not answer in time.</summary>
    public async Task<long?> Applied(CancellationToken cancel)
    {
        Exited();
        string text;
        try
        {
            text = await Http.GetStringAsync(new Uri($"http://127.0.0.1:{metricsPort}/metrics"), cancel);
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            return null;
        }

        long applied = 0;
        foreach (var line in text.Split('\n'))
        {
            // campaign_events_sync_applied_rows_total{outcome="upserted",…} 12345 [timestamp]
            if (line.StartsWith("campaign_events_sync_applied_rows", StringComparison.Ordinal) && line.Contains("outcome=\"upserted\"", StringComparison.Ordinal))
            {
                applied += long.Parse(line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], NumberStyles.Float, CultureInfo.InvariantCulture);
            }
        }

        return applied;
    }

    /// <summary>Stops it as an operator does (SIGTERM: in-flight batches finish), killing it when it does not end in time.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            using (var kill = Process.Start("kill", ["-TERM", Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await kill!.WaitForExitAsync();
            }

            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try
            {
                await process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }

        await logging;
        process.Dispose();
    }

    void Exited()
    {
        if (process.HasExited)
        {
            throw new InvalidOperationException($"consumer process {Id} exited with code {process.ExitCode}; see {LogFile}");
        }
    }

    static async Task Copy(StreamReader from, StreamWriter to)
    {
        while (await from.ReadLineAsync() is { } line)
        {
            lock (to)
            {
                to.WriteLine(line);
            }
        }
    }

    static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
