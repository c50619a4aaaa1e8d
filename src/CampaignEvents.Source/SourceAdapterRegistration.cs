using Microsoft.Extensions.Hosting;

namespace CampaignEvents.Source;

public static class SourceAdapterRegistration
{
    /// <summary>The source role: captures changes of the external database and publishes them.</summary>
    public static IHostApplicationBuilder AddSourceAdapter(this IHostApplicationBuilder builder)
    {
        // TODO(issue 5): register the capture service (logical replication or polling)
        return builder;
    }
}
