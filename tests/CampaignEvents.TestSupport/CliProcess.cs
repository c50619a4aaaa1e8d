using System.Diagnostics;

namespace CampaignEvents.TestSupport;

/// <summary>The outcome of one run of the campaign-events command.</summary>
public sealed record CliResult(int ExitCode, string Output, string Error)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Error}";
}

/// <summary>
/// Runs the real <c>campaign-events</c> command as a separate process, the way a user does
/// (the integration test project references the CLI, so its build sits beside the tests).
/// </summary>
public static class CliProcess
{
    public static string Dll => Path.Combine(AppContext.BaseDirectory, "campaign-events.dll");

    /// <summary>The benchmark tool (tools/CampaignEvents.Bench), beside the tests that reference it.</summary>
    public static string BenchDll => Path.Combine(AppContext.BaseDirectory, "campaign-events-bench.dll");

    /// <param name="program">The program's dll: <see cref="Dll"/> unless given (<see cref="BenchDll"/>).</param>
    public static ProcessStartInfo StartInfo(IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment = null, string? program = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(program ?? Dll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                info.Environment.Remove(key);
            }
            else
            {
                info.Environment[key] = value;
            }
        }

        return info;
    }

    public static async Task<CliResult> Run(IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment = null, string? input = null, TimeSpan? timeout = null, string? program = null)
    {
        using var process = Process.Start(StartInfo(args, environment, program)) ?? throw new InvalidOperationException("dotnet did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input);
        }

        process.StandardInput.Close();
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Path.GetFileNameWithoutExtension(program ?? Dll)} {string.Join(' ', args)} did not end within {timeout ?? TimeSpan.FromMinutes(2)}");
        }

        return new CliResult(process.ExitCode, await output, await error);
    }
}
