using CampaignEvents.Infrastructure.Configuration;
using Microsoft.Extensions.Configuration;

namespace CampaignEvents.Cli.Commands;

/// <summary>Standard .NET configuration: appsettings.json beside the program, then environment variables, then secret files (<see cref="SecretFiles"/>).</summary>
static class Settings
{
    public static IConfiguration Load() => new ConfigurationBuilder()
        .SetBasePath(AppContext.BaseDirectory)
        .AddJsonFile("appsettings.json", optional: true)
        .AddEnvironmentVariables()
        .AddSecretFiles()
        .Build();
}
