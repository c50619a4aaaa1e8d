using Microsoft.Extensions.Configuration;

namespace CampaignEvents.Cli.Commands;

/// <summary>Standard .NET configuration: appsettings.json beside the program, then environment variables.</summary>
static class Settings
{
    public static IConfiguration Load() => new ConfigurationBuilder()
        .SetBasePath(AppContext.BaseDirectory)
        .AddJsonFile("appsettings.json", optional: true)
        .AddEnvironmentVariables()
        .Build();
}
