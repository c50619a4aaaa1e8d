namespace CampaignEvents.Infrastructure.Observability;

/// <summary>
/// The project's meters. Every role creates its instruments on a meter whose name starts with
/// <c>CampaignEvents.</c>; they are exported with the prefix <c>campaign_events_</c>.
/// </summary>
internal static class Telemetry
{
    public const string MeterPrefix = "CampaignEvents.";
}
