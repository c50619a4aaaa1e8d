using System.Globalization;

namespace CampaignEvents.Bench;

/// <summary>
/// CPU and memory of processes from Linux's <c>/proc</c>, for the consumer series: where two shared
/// cores go (consumers, broker nodes, PostgreSQL backends, the bench). Elsewhere every figure is null.
/// </summary>
static class ProcStat
{
    /// <summary>USER_HZ: the unit of <c>/proc/*/stat</c> CPU times, 100 on every Linux the project runs on.</summary>
    const double TicksPerSecond = 100;

    /// <summary>User plus system CPU seconds of a process so far, or null when it is gone or unreadable.</summary>
    public static double? CpuSeconds(int pid)
    {
        var stat = Read($"/proc/{pid}/stat");
        if (stat is null)
        {
            return null;
        }

        var fields = FieldsAfterName(stat);
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
    }

    /// <summary>
    /// User plus system CPU seconds of every process named <paramref name="command"/> (its <c>comm</c>,
    /// e.g. <c>postgres</c>, <c>beam.smp</c>) so far, with the CPU of the children each has waited for
    /// (so PostgreSQL's backends that ended, which the postmaster reaped, still count); null when
    /// <c>/proc</c> cannot be read.
    /// </summary>
    public static double? CpuSecondsOf(string command)
    {
        if (!Directory.Exists("/proc"))
        {
            return null;
        }

        long ticks = 0;
        foreach (var pid in Pids())
        {
            if (Read($"/proc/{pid}/stat") is not { } stat)
            {
                continue;
            }

            var open = stat.IndexOf('(', StringComparison.Ordinal);
            var close = stat.LastIndexOf(')');
            if (open < 0 || close < open || stat[(open + 1)..close] != command)
            {
                continue;
            }

            // utime, stime, cutime, cstime: fields 14 to 17
            ticks += FieldsAfterName(stat).Skip(11).Take(4).Sum(f => long.Parse(f, CultureInfo.InvariantCulture));
        }

        return ticks / TicksPerSecond;
    }

    /// <summary>The busy and total CPU seconds of the whole machine (all cores) so far.</summary>
    public static (double Busy, double Total)? Machine()
    {
        var line = Read("/proc/stat")?.Split('\n')[0];
        if (line is null || !line.StartsWith("cpu ", StringComparison.Ordinal))
        {
            return null;
        }

        var ticks = line[4..].Split(' ', StringSplitOptions.RemoveEmptyEntries).Take(8).Select(t => long.Parse(t, CultureInfo.InvariantCulture)).ToArray();
        var total = ticks.Sum();
        var idle = ticks[3] + ticks[4];
        return ((total - idle) / TicksPerSecond, total / TicksPerSecond);
    }

    /// <summary>The peak resident set (VmHWM) of a process in MiB, or null.</summary>
    public static double? PeakRssMiB(int pid) => Read($"/proc/{pid}/status")?.Split('\n') is { } status ? StatusMiB(status, "VmHWM") : null;

    /// <summary>
    /// What a process's resident set is made of now (MiB, from <c>/proc/&lt;pid&gt;/status</c>):
    /// anonymous memory (the GC heap, native allocations, stacks), file-backed pages (the program's
    /// and the runtime's mapped code) and shared memory (the runtime maps executable memory twice,
    /// writable and executable, through it); null when unreadable.
    /// </summary>
    public static RssParts? Rss(int pid)
    {
        var status = Read($"/proc/{pid}/status")?.Split('\n');
        return status is not null && StatusMiB(status, "RssAnon") is { } anon && StatusMiB(status, "RssFile") is { } file && StatusMiB(status, "RssShmem") is { } shmem
            ? new RssParts(anon, file, shmem)
            : null;
    }

    /// <summary>A "Name:   1234 kB" line of <c>/proc/&lt;pid&gt;/status</c> in MiB, or null when it has none.</summary>
    static double? StatusMiB(string[] status, string name) =>
        status.FirstOrDefault(l => l.StartsWith(name + ":", StringComparison.Ordinal)) is { } line
            ? long.Parse(line[(name.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0
            : null;

    /// <summary>
    /// Resets this process's peak resident set (VmHWM) to its current RSS (Linux: "5" into
    /// <c>/proc/self/clear_refs</c>), so a later <see cref="PeakRssMiB"/> covers only what follows;
    /// false when the kernel did not allow it (the peak then covers the whole run).
    /// </summary>
    public static bool ResetOwnPeakRss()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The Erlang VMs (beam.smp) of the named RabbitMQ nodes (by RABBITMQ_NODENAME; reading it needs the same user or root).</summary>
    public static IReadOnlyList<int> RabbitNodes(IReadOnlyCollection<string> nodeNames)
    {
        var pids = new List<int>();
        foreach (var pid in Pids())
        {
            if (Read($"/proc/{pid}/comm")?.Trim() != "beam.smp")
            {
                continue;
            }

            var environment = Read($"/proc/{pid}/environ")?.Split('\0') ?? [];
            if (environment.Any(e => e.StartsWith("RABBITMQ_NODENAME=", StringComparison.Ordinal) && nodeNames.Contains(e["RABBITMQ_NODENAME=".Length..])))
            {
                pids.Add(pid);
            }
        }

        return pids;
    }

    /// <summary>The load average line of the machine ("1.86 8.93 11.05"), or "?".</summary>
    public static string LoadAverage() => string.Join(' ', (Read("/proc/loadavg") ?? "? ? ?").Split(' ').Take(3));

    /// <summary>The processes listed in <c>/proc</c> (those gone meanwhile read as null later).</summary>
    static IEnumerable<int> Pids() =>
        SafeDirectories("/proc")
            .Select(dir => int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : 0)
            .Where(pid => pid > 0);

    /// <summary>The fields of a <c>/proc/*/stat</c> line from the state on: the command name may hold spaces and parentheses, so they are counted after the last ')'.</summary>
    static string[] FieldsAfterName(string stat) => stat[(stat.LastIndexOf(')') + 2)..].Split(' ');

    static IEnumerable<string> SafeDirectories(string path)
    {
        try
        {
            return Directory.GetDirectories(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    static string? Read(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}

/// <summary>A resident set's parts in MiB: anonymous, file-backed, shared memory.</summary>
sealed record RssParts(double AnonMiB, double FileMiB, double ShmemMiB)
{
    public double TotalMiB => AnonMiB + FileMiB + ShmemMiB;

    /// <summary>The larger of two samples by their total.</summary>
    public static RssParts? Larger(RssParts? a, RssParts? b) => a is null ? b : b is null || a.TotalMiB >= b.TotalMiB ? a : b;

    public string Describe() => TargetTable.Invariant(
        $"{TotalMiB:0} MiB = anonymous {AnonMiB:0} MiB (the GC heap, native memory, stacks) + file-backed {FileMiB:0} MiB (the program's and the runtime's mapped code) + shared {ShmemMiB:0} MiB (executable memory, mapped writable and executable)");
}
