using System.Diagnostics;

namespace CampaignEvents.TestSupport;

/// <summary>
/// Command-line checkers from npm that the suite runs (the AsyncAPI CLI, a GitHub workflow
/// validator), installed on first use into the repository's ignored <c>.stack/npm</c> and reused
/// afterwards, so a fresh machine needs only node and npm and a re-run installs nothing. Their
/// whole dependency tree is pinned by <c>tests/npm-tools/package-lock.json</c> and installed with
/// <c>npm ci</c>: without it, npm resolved the ranges of their dependencies afresh on every fresh
/// machine, and a range the registry could not satisfy at that moment failed the suite.
/// </summary>
public static class NpmTools
{
    /// <summary>Exact versions: a checker that changes under the suite is a flaky test.</summary>
    public static readonly IReadOnlyList<string> Packages = ["@asyncapi/cli@6.2.0", "@action-validator/cli@0.6.0"];

    static readonly SemaphoreSlim Gate = new(1, 1);

    public static string Prefix => Repository.PathOf(Path.Combine(".stack", "npm"));

    /// <summary>The path of an installed program of <see cref="Packages"/> (node_modules/.bin/<paramref name="name"/>), installing them first when missing.</summary>
    public static async Task<string> Bin(string name)
    {
        var path = Path.Combine(Prefix, "node_modules", ".bin", name);
        await Gate.WaitAsync();
        try
        {
            if (!File.Exists(path) || !Installed())
            {
                await Install();
            }
        }
        finally
        {
            Gate.Release();
        }

        return File.Exists(path) ? path : throw new InvalidOperationException($"npm install of {string.Join(' ', Packages)} left no {path}");
    }

    static string Manifest => Repository.PathOf(Path.Combine("tests", "npm-tools", "package.json"));

    static string LockFile => Repository.PathOf(Path.Combine("tests", "npm-tools", "package-lock.json"));

    /// <summary>True when the installed tree is the locked one (the marker, the lock file's text, is written after a successful install).</summary>
    static bool Installed() =>
        File.Exists(Marker) && File.ReadAllText(Marker) == File.ReadAllText(LockFile);

    static string Marker => Path.Combine(Prefix, "installed.txt");

    /// <summary>
    /// <c>npm ci</c> of the locked tree into <see cref="Prefix"/>; a failed attempt (the registry
    /// did not answer, or answered wrongly, for a moment) is tried again, three attempts in all.
    /// </summary>
    static async Task Install()
    {
        Directory.CreateDirectory(Prefix);
        File.Delete(Marker);
        File.Copy(Manifest, Path.Combine(Prefix, "package.json"), overwrite: true);
        File.Copy(LockFile, Path.Combine(Prefix, "package-lock.json"), overwrite: true);
        var failures = new List<string>();
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var info = new ProcessStartInfo("npm")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = Prefix,
            };
            foreach (var arg in (string[])["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            {
                info.ArgumentList.Add(arg);
            }

            using var process = Process.Start(info) ?? throw new InvalidOperationException("npm did not start (is node installed?)");
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(8));
            await process.WaitForExitAsync(deadline.Token);
            if (process.ExitCode == 0)
            {
                await File.WriteAllTextAsync(Marker, await File.ReadAllTextAsync(LockFile));
                return;
            }

            failures.Add($"attempt {attempt}: exit {process.ExitCode}\n{await output}\n{await error}");
        }

        throw new InvalidOperationException($"npm ci of tests/npm-tools ({string.Join(' ', Packages)}) failed three times:\n{string.Join('\n', failures)}");
    }

    /// <summary>Runs a tool with its output captured; never asks the network for anything but what the tool itself needs offline.</summary>
    public static async Task<CliResult> Run(string program, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Repository.Root,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"{program} did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not end in time");
        }

        return new CliResult(process.ExitCode, await output, await error);
    }
}
