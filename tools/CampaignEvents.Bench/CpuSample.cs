using System.Globalization;

namespace CampaignEvents.Bench;

/// <summary>
/// The CPU seconds so far of the parts that share this machine's cores, from <c>/proc</c>: a
/// campaign-events process, PostgreSQL (every server process, ended backends included), RabbitMQ
/// (every <c>beam.smp</c>), this bench, and the whole machine. Two samples around a phase say where
/// its CPU went, and the least time that CPU allows on these cores (<see cref="Describe"/>).
/// </summary>
sealed record CpuSample(double? Program, double? Postgres, double? Broker, double? Bench, (double Busy, double Total)? Machine)
{
    /// <summary>Now; <paramref name="programPid"/> is the campaign-events process measured, if one runs.</summary>
    public static CpuSample Take(int? programPid = null) => new(
        programPid is { } pid ? ProcStat.CpuSeconds(pid) : 0,
        ProcStat.CpuSecondsOf("postgres"),
        ProcStat.CpuSecondsOf("beam.smp"),
        ProcStat.CpuSeconds(Environment.ProcessId),
        ProcStat.Machine());

    /// <summary>
    /// One line: the CPU seconds of each part between <paramref name="before"/> and
    /// <paramref name="after"/>, and the machine's busy seconds over its cores, the least wall time in
    /// which that much CPU fits (the phase could only be faster by using less of it).
    /// </summary>
    public static string Describe(string? program, CpuSample before, CpuSample after, TimeSpan wall, TimeSpan? reference = null)
    {
        var cores = Environment.ProcessorCount;
        var busy = Delta(before.Machine?.Busy, after.Machine?.Busy);
        var idle = Delta(before.Machine?.Total, after.Machine?.Total) - busy;
        var parts = new List<(string Name, double? Seconds)>();
        if (program is not null)
        {
            parts.Add((program, Delta(before.Program, after.Program)));
        }

        parts.Add(("PostgreSQL", Delta(before.Postgres, after.Postgres)));
        parts.Add(("RabbitMQ", Delta(before.Broker, after.Broker)));
        parts.Add(("this bench", Delta(before.Bench, after.Bench)));
        var rest = busy - parts.Sum(p => p.Seconds ?? 0);
        var floor = busy / cores;
        var ratio = reference is { } r && floor is { } f ? string.Create(CultureInfo.InvariantCulture, $" = {f / r.TotalSeconds:0.00}× COPY") : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"CPU seconds over the {wall.TotalSeconds:0.0} s ({cores} cores: {wall.TotalSeconds * cores:0.0}): {string.Join(", ", parts.Select(p => $"{p.Name} {Seconds(p.Seconds)}"))}, rest of the machine {Seconds(rest)}, idle {Seconds(idle)}; the {Seconds(busy)} busy CPU seconds need at least {Seconds(floor)} s on {cores} cores{ratio}");
    }

    /// <summary>The difference of two counters, or null when either is unknown.</summary>
    internal static double? Delta(double? before, double? after) => before is { } b && after is { } a ? a - b : null;

    /// <summary>Seconds with one decimal, "?" when unknown; counters read at slightly different moments may differ by a hair below 0.</summary>
    internal static string Seconds(double? value) => value is { } v ? Math.Max(0, v).ToString("0.0", CultureInfo.InvariantCulture) : "?";
}
