using CampaignEvents.Infrastructure.Messaging;
using MassTransit;

namespace CampaignEvents.Reconciliation.Reconciling;

/// <summary>
/// The request client of reconciliation's source side, shared by the reconciler and scheduling:
/// one typed answer, or a <see cref="ReconciliationException"/> that says whether the source side
/// did not answer in time or answered with an error.
/// </summary>
static class SourceSideRequests
{
    public static async Task<TResponse> Ask<TRequest, TResponse>(
        IRequestClient<TRequest> client, TRequest request, TimeSpan timeout, Func<TResponse, string?> error, CancellationToken cancel)
        where TRequest : class
        where TResponse : class
    {
        Response<TResponse> response;
        try
        {
            response = await client.Ask<TRequest, TResponse>(request, timeout, cancel);
        }
        catch (RequestTimeoutException e)
        {
            throw new ReconciliationException(
                $"the source side did not answer within {timeout.TotalSeconds:0.#} s (is `campaign-events run` with role source running on this broker?)", e);
        }

        return error(response.Message) is { } reason
            ? throw new ReconciliationException($"the source side failed: {reason}")
            : response.Message;
    }
}
