using Xunit;

namespace CampaignEvents.Bench.Tests;

/// <summary>The benchmarks' summary: each target of issue 18 judged against its bound, and the streaming latency histogram.</summary>
public sealed class TargetTableTests
{
    [Theory]
    [InlineData(1.49, "met")]
    [InlineData(1.5, "met")]
    [InlineData(1.51, "not met")]
    public void An_at_most_target_is_met_up_to_and_at_its_bound(double ratio, string expected) =>
        Assert.Equal(expected, TargetTable.Word(TargetTable.AtMost(ratio, 1.5)));

    [Theory]
    [InlineData(99.9, "met")]
    [InlineData(100, "not met")]
    [InlineData(100.1, "not met")]
    public void A_below_target_is_not_met_at_its_bound(double p99, string expected) =>
        Assert.Equal(expected, TargetTable.Word(TargetTable.Below(p99, 100)));

    [Theory]
    [InlineData(9_999.9, "not met")]
    [InlineData(10_000, "met")]
    [InlineData(12_000, "met")]
    public void An_at_least_target_is_met_at_its_bound(double rate, string expected) =>
        Assert.Equal(expected, TargetTable.Word(TargetTable.AtLeast(rate, 10_000)));

    [Theory]
    [InlineData(null)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void A_figure_that_was_not_measured_is_neither_met_nor_missed(double? value)
    {
        Assert.Equal(Verdict.NotMeasured, TargetTable.AtMost(value, 1.5));
        Assert.Equal(Verdict.NotMeasured, TargetTable.AtLeast(value, 10_000));
    }

    [Fact]
    public void Peak_rss_is_judged_against_300_MB_not_300_MiB()
    {
        var table = new TargetTable()
            .PeakRss("a", 286.0)    // 299.9 MB
            .PeakRss("b", 286.2)    // 300.1 MB
            .PeakRss("c", null);

        Assert.Equal([Verdict.Met, Verdict.NotMet, Verdict.NotMeasured], table.Lines.Select(l => l.Verdict));
        Assert.StartsWith("300.1 MB (286 MiB", table.Lines[1].Measured, StringComparison.Ordinal);
    }

    [Fact]
    public void The_printed_table_has_one_aligned_line_per_target_with_figure_reference_and_verdict()
    {
        var output = new StringWriter();

        new TargetTable()
            .Add("initial sync ≤ 1.5× COPY", "40.1 s = 2.53× COPY", "COPY 15.8 s", TargetTable.AtMost(2.53, 1.5))
            .Add("p99 < 100 ms", "p99 80.0 ms", "rate 2,000/s", TargetTable.Below(80, 100))
            .Add("per event ≥ 10,000 rows/s", "skipped", "COPY 60,000 rows/s", TargetTable.AtLeast(null, 10_000))
            .Print(output);

        var lines = output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("targets:", lines[0]);
        Assert.Equal(5, lines.Length);
        Assert.EndsWith("| not met", lines[2], StringComparison.Ordinal);
        Assert.EndsWith("| met", lines[3], StringComparison.Ordinal);
        Assert.EndsWith("| not measured", lines[4], StringComparison.Ordinal);
        Assert.Contains("| 40.1 s = 2.53× COPY | COPY 15.8 s", lines[2], StringComparison.Ordinal);

        // the columns line up: every separator of every line at the same place
        var separators = lines.Skip(1).Select(l => string.Join(",", l.Select((c, i) => (c, i)).Where(x => x.c == '|').Select(x => x.i))).Distinct();
        Assert.Single(separators);
    }

    [Fact]
    public void Latencies_fall_in_the_bucket_whose_bound_is_the_first_not_below_them()
    {
        double[] latencies = [0, 5, 5.01, 10, 24.9, 50, 99.99, 100, 100.01, 250, 499, 1000, 1000.01, 60_000];

        var counts = LatencyHistogram.Count(latencies);

        // ≤5, ≤10, ≤25, ≤50, ≤100, ≤250, ≤500, ≤1000, more
        Assert.Equal([2L, 2, 1, 1, 2, 2, 1, 1, 2], counts);
    }

    [Fact]
    public void The_histogram_prints_every_bucket_even_empty_ones()
    {
        var output = new StringWriter();

        LatencyHistogram.Print(LatencyHistogram.Count([3, 3, 700]), output);

        var lines = output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(10, lines.Length);
        Assert.Matches(@"^\s+≤ 5\s+2\s+66\.7 %$", lines[1]);
        Assert.Matches(@"^\s+≤ 1000\s+1\s+33\.3 %$", lines[8]);
        Assert.Matches(@"^\s+> 1000\s+0\s+0\.0 %$", lines[9]);
    }
}
