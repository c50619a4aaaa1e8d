using Npgsql;

namespace CampaignEvents.Sync.ApplyContactChanges;

/// <summary>Failures that pass by themselves: retried with back-off, never sent to the error queue while they last.</summary>
public static class TransientFailures
{
    public static bool IsTransient(Exception e) => e switch
    {
        PostgresException pg => pg.IsTransient
            || pg.SqlState is PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected
            || pg.SqlState.StartsWith("08", StringComparison.Ordinal) // connection exception
            || pg.SqlState.StartsWith("53", StringComparison.Ordinal) // insufficient resources
            || pg.SqlState.StartsWith("57P0", StringComparison.Ordinal), // shutting down, starting up
        // anything else Npgsql raises is about reaching the server (refused, reset, timed out)
        NpgsqlException => true,
        TimeoutException => true,
        _ => e.InnerException is { } inner && IsTransient(inner),
    };
}
