using CampaignEvents.Infrastructure.Messaging;
using MassTransit;
using Npgsql;

namespace CampaignEvents.Source.ReconciliationSide;

/// <summary>
/// The one shape of the source side's request consumers. The source side answers every request,
/// failures included (the answer's <c>Error</c> set), so the requester gets one typed answer
/// instead of a fault it would have to tell apart from a response.
/// </summary>
internal abstract class SourceSideConsumer<TRequest, TAnswer> : IConsumer<TRequest>
    where TRequest : class
    where TAnswer : class
{
    public async Task Consume(ConsumeContext<TRequest> context)
    {
        TAnswer answer;
        try
        {
            answer = await Answer(context.Message, context.CancellationToken);
        }
        catch (Exception e) when (IsSourceFailure(e))
        {
            LogFailure(e, context.Message);
            answer = Failed(context.Message, SourceFailure.Describe(e));
        }

        await context.Answer(answer);
    }

    /// <summary>The answer from the external database.</summary>
    protected abstract Task<TAnswer> Answer(TRequest request, CancellationToken cancel);

    /// <summary>The answer that carries <paramref name="error"/> instead of a result.</summary>
    protected abstract TAnswer Failed(TRequest request, string error);

    protected abstract void LogFailure(Exception e, TRequest request);

    /// <summary>A failure answered as an error (the external database refused or is away); any other exception faults.</summary>
    protected virtual bool IsSourceFailure(Exception e) => e is NpgsqlException or InvalidOperationException;
}

static class SourceFailure
{
    public static string Describe(Exception e) => e switch
    {
        PostgresException pg => $"the source database refused the query: {pg.MessageText} ({pg.SqlState})",
        NpgsqlException => $"the source database cannot be reached: {e.Message}",
        _ => e.Message,
    };
}
