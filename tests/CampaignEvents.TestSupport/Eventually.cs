namespace CampaignEvents.TestSupport;

/// <summary>Waits for an asynchronous outcome by polling with a deadline, never a bare sleep.</summary>
public static class Eventually
{
    public static async Task Until(Func<Task<bool>> condition, TimeSpan deadline, Func<string> describe)
    {
        var until = DateTime.UtcNow + deadline;
        var pause = TimeSpan.FromMilliseconds(20);
        while (!await condition())
        {
            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"not reached within {deadline.TotalSeconds:0} s: {describe()}");
            }

            await Task.Delay(pause);
            pause = TimeSpan.FromMilliseconds(Math.Min(pause.TotalMilliseconds * 2, 250));
        }
    }

    public static Task Until(Func<Task<bool>> condition, TimeSpan deadline, string what) =>
        Until(condition, deadline, () => what);
}
