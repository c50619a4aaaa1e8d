using System.Globalization;
using Xunit;

namespace CampaignEvents.Bench.Tests;

/// <summary>
/// The CPU profile the initial-sync bench prints beside its figure: each part's CPU seconds from
/// <c>/proc</c>, and the least time the machine's busy CPU fits in on its cores.
/// </summary>
public sealed class CpuSampleTests
{
    [Fact]
    public void A_command_counts_every_process_of_that_name_and_nothing_else()
    {
        var comm = File.ReadAllText("/proc/self/comm").Trim();

        // burn a little CPU so this process has some to count
        var spin = System.Diagnostics.Stopwatch.StartNew();
        while (spin.ElapsedMilliseconds < 50)
        {
            Thread.SpinWait(1_000);
        }

        var own = ProcStat.CpuSeconds(Environment.ProcessId);
        var all = ProcStat.CpuSecondsOf(comm);

        Assert.NotNull(own);
        Assert.True(all >= own, $"the processes named {comm} used {all} CPU s, less than this one alone ({own})");
        Assert.Equal(0, ProcStat.CpuSecondsOf("no-such-command-" + Guid.NewGuid().ToString("N")[..8]));
    }

    [Fact]
    public void The_resident_set_of_a_process_is_its_anonymous_file_backed_and_shared_parts()
    {
        var parts = ProcStat.Rss(Environment.ProcessId);
        var status = File.ReadAllLines($"/proc/{Environment.ProcessId}/status");
        var rss = long.Parse(status.Single(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0;

        Assert.NotNull(parts);
        Assert.True(parts.AnonMiB > 0 && parts.FileMiB > 0, parts.Describe());
        // the kernel's VmRSS is the sum of the three (read a moment apart: the heap may move a little)
        Assert.InRange(parts.TotalMiB, rss * 0.8, rss * 1.2);
        Assert.Null(ProcStat.Rss(int.MaxValue));
        Assert.Same(parts, RssParts.Larger(parts, parts with { AnonMiB = 0 }));
        Assert.Same(parts, RssParts.Larger(null, parts));
        Assert.StartsWith("10 MiB = anonymous 6 MiB", new RssParts(6, 3, 1).Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_floor_is_the_machines_busy_seconds_over_its_cores()
    {
        var cores = Environment.ProcessorCount;
        var before = new CpuSample(0, 10, 2, 1, (100, 400));
        var after = new CpuSample(20, 40, 8, 2, (200, 560));

        var line = CpuSample.Describe("campaign-events process", before, after, TimeSpan.FromSeconds(80), reference: TimeSpan.FromSeconds(20));

        // 100 busy CPU seconds fit in no less than 100 / cores seconds; the parts are the differences
        var floor = 100.0 / cores;
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"the 100.0 busy CPU seconds need at least {floor:0.0} s on {cores} cores = {floor / 20:0.00}× COPY"), line, StringComparison.Ordinal);
        Assert.Contains("campaign-events process 20.0, PostgreSQL 30.0, RabbitMQ 6.0, this bench 1.0, rest of the machine 43.0, idle 60.0", line, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unreadable_machine_says_so_instead_of_a_figure()
    {
        var line = CpuSample.Describe(null, new CpuSample(null, null, null, null, null), new CpuSample(null, null, null, null, null), TimeSpan.FromSeconds(1));

        Assert.Contains("PostgreSQL ?, RabbitMQ ?", line, StringComparison.Ordinal);
        Assert.Contains("the ? busy CPU seconds need at least ? s", line, StringComparison.Ordinal);
    }
}
