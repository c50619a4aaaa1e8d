using CampaignEvents.Sync.ApplyContactChanges;
using Xunit;

namespace CampaignEvents.UnitTests.Sync;

/// <summary>
/// The sync consumer's bound on message bytes held at once (Sync:MaxBytesInFlight): memory stays
/// flat whatever the backlog, and no message waits forever.
/// </summary>
public sealed class BytesInFlightTests
{
    static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task A_message_waits_until_the_bytes_ahead_of_it_are_given_back()
    {
        var budget = new BytesInFlight(1_000);
        var first = await budget.Take(600, None);
        var second = budget.Take(600, None).AsTask();

        Assert.False(second.IsCompleted);
        first.Dispose();
        using var granted = await second.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(600, budget.Used);
    }

    [Fact]
    public async Task Waiting_messages_are_served_first_come_first_served()
    {
        var budget = new BytesInFlight(1_000);
        var held = await budget.Take(900, None);
        var large = budget.Take(800, None).AsTask();
        var small = budget.Take(50, None).AsTask();

        // the small one fits beside the held bytes but must not overtake the large one
        Assert.False(small.IsCompleted);
        held.Dispose();
        (await large.WaitAsync(TimeSpan.FromSeconds(10))).Dispose();
        (await small.WaitAsync(TimeSpan.FromSeconds(10))).Dispose();
        Assert.Equal(0, budget.Used);
    }

    [Fact]
    public async Task A_message_larger_than_the_whole_budget_goes_alone_rather_than_never()
    {
        var budget = new BytesInFlight(1_000);
        using (await budget.Take(5_000_000, None))
        {
            Assert.Equal(1_000, budget.Used);
            Assert.False(budget.Take(1, None).AsTask().IsCompleted);
        }
    }

    [Fact]
    public async Task A_cancelled_wait_takes_nothing_and_lets_the_next_one_through()
    {
        var budget = new BytesInFlight(1_000);
        var held = await budget.Take(500, None);
        using var stop = new CancellationTokenSource();
        var cancelled = budget.Take(900, stop.Token).AsTask();
        var next = budget.Take(400, None).AsTask();

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        (await next.WaitAsync(TimeSpan.FromSeconds(10))).Dispose();
        held.Dispose();
        Assert.Equal(0, budget.Used);
    }

    [Fact]
    public async Task Giving_a_lease_back_twice_returns_its_bytes_once()
    {
        var budget = new BytesInFlight(1_000);
        var lease = await budget.Take(300, None);
        using var other = await budget.Take(200, None);
        lease.Dispose();
        lease.Dispose();
        Assert.Equal(200, budget.Used);
    }
}
