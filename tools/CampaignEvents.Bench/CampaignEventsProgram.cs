using System.Diagnostics;
using CampaignEvents.Infrastructure.Configuration;

namespace CampaignEvents.Bench;

/// <summary>
/// The campaign-events program that <c>sync --consumers</c> starts as separate processes: given by
/// <c>--cli</c> (its executable, or <c>campaign-events.dll</c> run by <c>dotnet</c>), else the build
/// beside this tool, which its project reference puts there.
/// </summary>
sealed class CampaignEventsProgram
{
    const string Dll = "campaign-events.dll";

    readonly string path;

    CampaignEventsProgram(string path) => this.path = path;

    /// <summary>The program to start; a <c>--cli</c> that is not there is one line naming the option.</summary>
    public static CampaignEventsProgram Find(FileInfo? given)
    {
        if (given is not null)
        {
            return given.Exists
                ? new CampaignEventsProgram(given.FullName)
                : throw new SettingsException($"option --cli: {given.FullName} does not exist (give the campaign-events executable or campaign-events.dll)");
        }

        var beside = Path.Combine(AppContext.BaseDirectory, Dll);
        return File.Exists(beside)
            ? new CampaignEventsProgram(beside)
            : throw new SettingsException($"no {Dll} beside this tool ({AppContext.BaseDirectory}): build tools/CampaignEvents.Bench, or give the program with --cli");
    }

    /// <summary>How to start it: a dll through the <c>dotnet</c> host that runs this tool, an executable as it is.</summary>
    public ProcessStartInfo StartInfo()
    {
        if (!path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
        {
            return new ProcessStartInfo(path) { UseShellExecute = false };
        }

        // the host running this tool (the apphost's own runtime resolution finds `dotnet` the same way)
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h ? h
            : Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath!
            : "dotnet";
        var info = new ProcessStartInfo(host) { UseShellExecute = false };
        info.ArgumentList.Add(path);
        return info;
    }

    public override string ToString() => path;
}
