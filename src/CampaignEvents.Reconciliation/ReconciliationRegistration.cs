using Microsoft.Extensions.Hosting;

namespace CampaignEvents.Reconciliation;

public static class ReconciliationRegistration
{
    /// <summary>The reconcile role: compares digests of both sides and reports or repairs drift.</summary>
    public static IHostApplicationBuilder AddReconciliation(this IHostApplicationBuilder builder)
    {
        // TODO(issue 6): register the reconciliation consumer
        return builder;
    }

    /// <summary>The source side of reconciliation: answers digest and key requests from the external database.</summary>
    public static IHostApplicationBuilder AddReconciliationSourceSide(this IHostApplicationBuilder builder)
    {
        // TODO(issue 6): register the digest responder
        return builder;
    }
}
