using System.Net.Mime;
using MassTransit;

namespace CampaignEvents.Infrastructure.Messaging;

/// <summary>
/// Requests and responses between the parts of reconciliation travel in MassTransit's JSON
/// envelope, not the bus's raw JSON: raw JSON carries no checked message type, so a bus's response
/// endpoint would hand one response to every awaited response type (and to the request's fault
/// handler). The envelope names its type, and the raw deserializer stays the default for
/// everything else. Events (<c>CampaignReconciled</c>, the repair's batches) stay raw JSON.
/// </summary>
public static class Envelope
{
    static readonly ContentType EnvelopeType = new("application/vnd.masstransit+json");

    public static void Use(SendContext context)
    {
        if (context.Serialization.TryGetMessageSerializer(EnvelopeType, out var serializer))
        {
            context.Serializer = serializer;
        }
    }

    /// <summary>Sends the request in the envelope and waits for its one response type.</summary>
    public static async Task<Response<TResponse>> Ask<TRequest, TResponse>(this IRequestClient<TRequest> client, TRequest request, TimeSpan timeout, CancellationToken cancel)
        where TRequest : class
        where TResponse : class =>
        await client.GetResponse<TResponse>(request, x => x.UseExecute(Use), cancel, RequestTimeout.After(ms: (int)Math.Min(timeout.TotalMilliseconds, int.MaxValue)));

    /// <summary>Answers in the envelope.</summary>
    public static Task Answer<T>(this ConsumeContext context, T response)
        where T : class =>
        context.RespondAsync(response, x => Use(x));
}
