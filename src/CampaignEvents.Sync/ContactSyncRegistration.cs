using Microsoft.Extensions.Hosting;

namespace CampaignEvents.Sync;

public static class ContactSyncRegistration
{
    /// <summary>The sync role: consumers that apply contact and campaign events to the local database.</summary>
    public static IHostApplicationBuilder AddContactSync(this IHostApplicationBuilder builder)
    {
        // TODO(issue 4): register the sync consumers with builder.AddBusPart(...)
        return builder;
    }
}
