using System.Globalization;

namespace CampaignEvents.Bench;

/// <summary>Whether a performance target was met in a run.</summary>
enum Verdict
{
    Met,
    NotMet,

    /// <summary>The run did not measure it (a phase skipped, or measured at another point than the target names).</summary>
    NotMeasured,
}

/// <summary>
/// The summary every benchmark command prints at its end: one line per performance target, with the
/// figure measured, the reference measured in the same run, and met / not met.
/// </summary>
sealed class TargetTable
{
    /// <summary>"&lt; 300 MB per campaign-events process" (the memory target), in MiB as /proc gives it.</summary>
    public const double PeakRssLimitMiB = 300_000_000 / 1_048_576.0;

    readonly List<Line> lines = [];

    public sealed record Line(string Target, string Measured, string Reference, Verdict Verdict);

    public IReadOnlyList<Line> Lines => lines;

    public TargetTable Add(string target, string measured, string reference, Verdict verdict)
    {
        lines.Add(new Line(target, measured, reference, verdict));
        return this;
    }

    /// <summary>Met when <paramref name="value"/> is at most <paramref name="limit"/> (a "≤" target).</summary>
    public static Verdict AtMost(double? value, double limit) => Judge(value, v => v <= limit);

    /// <summary>Met when <paramref name="value"/> is strictly below <paramref name="limit"/> (a "&lt;" target).</summary>
    public static Verdict Below(double? value, double limit) => Judge(value, v => v < limit);

    /// <summary>Met when <paramref name="value"/> is at least <paramref name="limit"/> (a "≥" target).</summary>
    public static Verdict AtLeast(double? value, double limit) => Judge(value, v => v >= limit);

    /// <summary>
    /// The peak-RSS line of target 5: <paramref name="whose"/> says which process the figure is
    /// (a process the bench started, or the bench itself hosting the pipeline).
    /// </summary>
    public TargetTable PeakRss(string whose, double? peakMiB) => Add(
        "peak RSS < 300 MB per campaign-events process",
        (peakMiB is { } p ? string.Create(CultureInfo.InvariantCulture, $"{p * 1.048576:0.0} MB ({p:0} MiB VmHWM)") : "? (no /proc)") + $" of {whose}",
        "—",
        Below(peakMiB, PeakRssLimitMiB));

    /// <summary>The peak-RSS line for the bench process itself when it hosts the pipeline in-process (no campaign-events process of its own).</summary>
    public TargetTable BenchProcessPeakRss(bool sinceHostStart) => PeakRss(
        sinceHostStart ? "the bench process, pipeline in-process (peak since host start)" : "the bench process, pipeline in-process (peak of the whole run)",
        ProcStat.PeakRssMiB(Environment.ProcessId));

    /// <summary>A figure formatted the same on every machine.</summary>
    public static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    public static string Word(Verdict verdict) => verdict switch
    {
        Verdict.Met => "met",
        Verdict.NotMet => "not met",
        _ => "not measured",
    };

    public void Print(TextWriter output)
    {
        string[] header = ["target", "measured", "reference (same run)", "verdict"];
        var rows = lines.Select(l => (string[])[l.Target, l.Measured, l.Reference, Word(l.Verdict)]).ToList();
        var widths = Enumerable.Range(0, header.Length).Select(i => rows.Select(r => r[i].Length).Append(header[i].Length).Max()).ToArray();
        output.WriteLine();
        output.WriteLine("targets:");
        foreach (var row in rows.Prepend(header))
        {
            output.WriteLine(("  " + string.Join(" | ", row.Select((cell, i) => cell.PadRight(widths[i])))).TrimEnd());
        }
    }

    static Verdict Judge(double? value, Func<double, bool> met) =>
        value is { } v && double.IsFinite(v) ? (met(v) ? Verdict.Met : Verdict.NotMet) : Verdict.NotMeasured;
}

/// <summary>Latencies in milliseconds counted into fixed buckets, as <c>bench streaming</c> prints them.</summary>
static class LatencyHistogram
{
    /// <summary>Upper bounds (inclusive) in ms; a last bucket holds everything above the highest.</summary>
    public static readonly double[] Bounds = [5, 10, 25, 50, 100, 250, 500, 1000];

    /// <summary>Counts per bucket: <c>[i]</c> holds latencies in (Bounds[i-1], Bounds[i]], the last one those above 1000 ms.</summary>
    public static long[] Count(IEnumerable<double> latenciesMs)
    {
        var counts = new long[Bounds.Length + 1];
        foreach (var latency in latenciesMs)
        {
            var i = 0;
            while (i < Bounds.Length && latency > Bounds[i])
            {
                i++;
            }

            counts[i]++;
        }

        return counts;
    }

    public static void Print(long[] counts, TextWriter output)
    {
        var total = Math.Max(1, counts.Sum());
        output.WriteLine("latency histogram (ms, each bucket up to and including its bound):");
        for (var i = 0; i < counts.Length; i++)
        {
            var label = i < Bounds.Length ? $"≤ {Bounds[i]:0}" : $"> {Bounds[^1]:0}";
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {label,7} {counts[i],10:N0} {counts[i] * 100.0 / total,6:0.0} %"));
        }
    }
}
