using CampaignEvents.Cli.Hosting;
using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.TestSupport.Stack;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RabbitMQ.Client.Exceptions;

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

    /// <summary>
    /// The deployment's step before a host of <paramref name="roles"/> runs as its job: the parts
    /// of the topology the roles use, with their settings (the wait queues of
    /// Sync:CampaignWaitIntervals), declared as the administrator of <paramref name="settings"/>
    /// (':' or '__' keys), as <c>migrate --topology</c> declares the whole of it.
    /// </summary>
    public static async Task DeclareTopology(IReadOnlyCollection<Role> roles, IReadOnlyDictionary<string, string?> settings)
    {
        var configuration = settings.ToDictionary(s => s.Key.Replace("__", ":", StringComparison.Ordinal), s => s.Value);
        using var deployment = PipelineHost.CreateBuilder(roles, configuration).Build();
        var topology = deployment.Services.GetRequiredService<BrokerTopology>();
        try
        {
            await topology.Declare(CancellationToken.None);
        }
        catch (Exception e) when (e is SettingsException or BrokerUnreachableException or OperationInterruptedException)
        {
            // a broker that is away or refuses is the role host's to report, as it would be in production
        }
    }

    /// <summary><paramref name="settings"/> with the identity of the job of <paramref name="roles"/>.</summary>
    public static Dictionary<string, string?> Settings(IReadOnlyCollection<Role> roles, IReadOnlyDictionary<string, string?> settings) =>
        Identities.As(JobOf(roles), settings);

    /// <summary>
    /// A host of <paramref name="roles"/> (not started), as <c>campaign-events run</c> builds it, with
    /// the job's identity. First the deployment's step, as the administrator of
    /// <paramref name="settings"/>: <c>migrate --topology</c> for the parts of the topology the
    /// roles use, with their settings (wait queues). A role user may declare its own queues, but not
    /// a wait queue on a fresh vhost: that dead-letters to the default exchange, and RabbitMQ checks
    /// write permission on it for a new queue's dead-letter exchange (README: Identities and permissions).
    /// </summary>
    /// <param name="job">Another job than the roles' own (one whose user may do more, e.g. <c>pipeline</c> for a sync host that also publishes what the other roles publish).</param>
    public static async Task<IHost> Build(IReadOnlyCollection<Role> roles, IReadOnlyDictionary<string, string?> settings, Job? job = null)
    {
        await DeclareTopology(roles, settings);
        var host = PipelineHost.CreateBuilder(roles, Identities.As(job ?? JobOf(roles), settings)).Build();
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
