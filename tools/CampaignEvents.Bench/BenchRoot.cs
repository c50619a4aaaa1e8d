using System.CommandLine;

namespace CampaignEvents.Bench;

/// <summary>Every benchmark of campaign-events-bench (the documentation tests check the README's bench commands against it).</summary>
public static class BenchRoot
{
    public static RootCommand Create() => new("campaign-events-bench: benchmarks of the campaign-events pipeline that print their figures beside a reference measured in the same run, on throwaway databases and a throwaway vhost of the configured servers.")
    {
        SyncBenchCommand.Create(),
        SourceBenchCommand.InitialSync(),
        SourceBenchCommand.Streaming(),
        ReconcileBenchCommand.Create(),
    };
}
