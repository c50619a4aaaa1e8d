using System.Diagnostics;
using Dapper;
using Npgsql;
using Spectre.Console;

namespace CampaignEvents.Cli.Commands.Demo;

/// <summary>
/// Watches the local database catch up with the source: a live bar with rows/s, lag and ETA on a
/// terminal, a plain line every few seconds otherwise.
/// </summary>
sealed class DemoProgress(NpgsqlDataSource source, NpgsqlDataSource local, string slot, int invalidRows)
{
    const string SlotLag = "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint FROM pg_replication_slots WHERE slot_name = @slot";

    sealed record Sample(long Expected, long Local, long? SlotLagBytes);

    /// <summary>True once the churn is over and the local table holds every valid source row.</summary>
    public async Task<bool> Watch(Task churn, TimeSpan timeout, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        if (AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected)
        {
            var done = false;
            await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .StartAsync(async ctx =>
                {
                    var task = ctx.AddTask("syncing", maxValue: 1);
                    var rate = new Rate();
                    while (clock.Elapsed < timeout)
                    {
                        var s = await Take(cancel);
                        task.MaxValue = Math.Max(1, s.Expected);
                        task.Value = Math.Min(s.Local, s.Expected);
                        task.Description = $"{s.Local:N0}/{s.Expected:N0} rows · {rate.Update(s.Local):N0}/s · lag {Math.Max(0, s.Expected - s.Local):N0}";
                        if (churn.IsCompleted && s.Local == s.Expected)
                        {
                            task.Value = task.MaxValue;
                            done = true;
                            return;
                        }

                        await Task.Delay(250, cancel);
                    }
                });
            return done;
        }

        var plain = new Rate();
        var lastPrint = TimeSpan.FromSeconds(-10);
        while (clock.Elapsed < timeout)
        {
            var s = await Take(cancel);
            var caughtUp = churn.IsCompleted && s.Local == s.Expected;
            if (caughtUp || clock.Elapsed - lastPrint >= TimeSpan.FromSeconds(2))
            {
                var rate = plain.Update(s.Local);
                var lag = Math.Max(0, s.Expected - s.Local);
                var eta = rate > 0 ? $"{lag / rate:0}s" : "-";
                Console.WriteLine($"[{clock.Elapsed.TotalSeconds,5:0.0}s] {s.Local:N0}/{s.Expected:N0} rows ({100.0 * s.Local / Math.Max(1, s.Expected):0}%) · {rate:N0} rows/s · lag {lag:N0} rows{SlotText(s)} · ETA {eta}");
                lastPrint = clock.Elapsed;
            }

            if (caughtUp)
            {
                return true;
            }

            await Task.Delay(250, cancel);
        }

        return false;
    }

    static string SlotText(Sample s) => s.SlotLagBytes is { } bytes ? $" · slot {bytes / 1024:N0} KiB behind" : "";

    async Task<Sample> Take(CancellationToken cancel)
    {
        await using var sourceConnection = await source.OpenConnectionAsync(cancel);
        var sourceRows = await sourceConnection.ExecuteScalarAsync<long>("SELECT count(*) FROM contacts");
        var lag = await sourceConnection.ExecuteScalarAsync<long?>(SlotLag, new { slot });
        await using var localConnection = await local.OpenConnectionAsync(cancel);
        var localRows = await localConnection.ExecuteScalarAsync<long>("SELECT count(*) FROM contacts");
        return new Sample(sourceRows - invalidRows, localRows, lag);
    }

    /// <summary>Rows per second over the last few seconds.</summary>
    sealed class Rate
    {
        readonly Queue<(TimeSpan At, long Rows)> window = new();
        readonly Stopwatch clock = Stopwatch.StartNew();

        public double Update(long rows)
        {
            window.Enqueue((clock.Elapsed, rows));
            while (window.Count > 2 && clock.Elapsed - window.Peek().At > TimeSpan.FromSeconds(5))
            {
                window.Dequeue();
            }

            var (at, first) = window.Peek();
            var seconds = (clock.Elapsed - at).TotalSeconds;
            return seconds > 0 ? Math.Max(0, (rows - first) / seconds) : 0;
        }
    }
}
