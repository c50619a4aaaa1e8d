using CampaignEvents.Cli.Hosting;
using CampaignEvents.TestSupport.Stack;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace CampaignEvents.IntegrationTests.Pipeline;

/// <summary>
/// The in-process hosts of the tests, each with the identity of its job (docs/adr/0015): the
/// settings a test passes hold the administrator's connections to its own databases (which the
/// harness keeps for setup and assertions); the host gets the job's logins on the same databases
/// and the job's broker user (<see cref="Identities.Settings"/>), and is refused when it would
/// still connect as the administrator (<see cref="Identities.RequireJobIdentity"/>).
/// </summary>
static class RoleHosts
{
    /// <summary>The job whose identity a host of <paramref name="roles"/> runs as: a role's own, or <c>pipeline</c> for several (as <c>run</c> does).</summary>
    public static Job JobOf(IReadOnlyCollection<Role> roles) => roles.Count == 1
        ? roles.Single() switch
        {
            Role.Source => Job.Source,
            Role.Sync => Job.Sync,
            Role.Reconcile => Job.Reconcile,
            _ => throw new ArgumentOutOfRangeException(nameof(roles)),
        }
        : Job.Pipeline;

    /// <summary><paramref name="settings"/> with the identity of the job of <paramref name="roles"/>.</summary>
    public static Dictionary<string, string?> Settings(IReadOnlyCollection<Role> roles, IReadOnlyDictionary<string, string?> settings) =>
        Identities.As(JobOf(roles), settings);

    /// <summary>A host of <paramref name="roles"/> (not started), as <c>campaign-events run</c> builds it, with the job's identity.</summary>
    public static IHost Build(IReadOnlyCollection<Role> roles, IReadOnlyDictionary<string, string?> settings)
    {
        var host = PipelineHost.CreateBuilder(roles, Settings(roles, settings)).Build();
        var configuration = host.Services.GetRequiredService<IConfiguration>();
        try
        {
            Identities.RequireJobIdentity(key => configuration[key], $"the {string.Join('+', roles).ToLowerInvariant()} host");
        }
        catch
        {
            host.Dispose();
            throw;
        }

        return host;
    }
}
