using Npgsql;

namespace CampaignEvents.Sync.ApplyContactChanges;

/// <summary>Failures that pass by themselves: retried with back-off, never sent to the error queue while they last.</summary>
internal static class TransientFailures
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

    /// <summary>
    /// A failure caused by the data of the message being written (PostgreSQL's data exceptions,
    /// class 22; integrity violations, 23; program limits, 54), which trying again cannot cure:
    /// the batch is split to find that message (docs/adr/0002). Any other database error (a
    /// password rotated, a read-only standby, a missing table, a timeout) is about the database,
    /// not the message: it is waited out by the circuit breaker, never a reason for the error queue.
    /// </summary>
    public static bool IsCausedByMessage(Exception e) => e switch
    {
        PostgresException pg => pg.SqlState.StartsWith("22", StringComparison.Ordinal)
            || pg.SqlState.StartsWith("23", StringComparison.Ordinal)
            || pg.SqlState.StartsWith("54", StringComparison.Ordinal),
        NpgsqlException or TimeoutException or OperationCanceledException => false,
        _ => e.InnerException is { } inner ? IsCausedByMessage(inner) : true,
    };
}
