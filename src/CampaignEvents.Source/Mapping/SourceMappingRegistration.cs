using CampaignEvents.Source.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace CampaignEvents.Source.Mapping;

internal static class SourceMappingRegistration
{
    /// <summary>
    /// The section Source, validated at start, and the one <see cref="SourceMapping"/> built from it,
    /// for every service that reads the external database (the adapter and the source side of
    /// reconciliation, in one process or apart). Safe to call more than once.
    /// </summary>
    public static IServiceCollection AddSourceMapping(this IServiceCollection services)
    {
        services.AddOptions<SourceOptions>()
            .BindConfiguration(SourceOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton(provider => new SourceMapping(provider.GetRequiredService<IOptions<SourceOptions>>().Value));
        return services;
    }
}
