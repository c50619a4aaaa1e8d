using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Infrastructure.Database;
using CampaignEvents.Infrastructure.Observability;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.Reconciliation;
using CampaignEvents.Source;
using CampaignEvents.Source.ReconciliationSide;
using CampaignEvents.Sync;
using Microsoft.Extensions.Hosting;

namespace CampaignEvents.Cli.Hosting;

/// <summary>The roles one process can host.</summary>
public enum Role
{
    Source,
    Sync,
    Reconcile,
}

/// <summary>
/// The composition root: one host with the chosen roles, used by <c>campaign-events run</c> and
/// by the tests (which pass their own database and vhost as configuration overrides).
/// </summary>
internal static class PipelineHost
{
    public static readonly Role[] AllRoles = [Role.Source, Role.Sync, Role.Reconcile];

    /// <param name="roles">The roles to host.</param>
    /// <param name="overrides">Configuration that wins over appsettings.json and the environment (tests pass their database and vhost).</param>
    /// <param name="serveOperatorEndpoints">Serve metrics and health on loopback (campaign-events run does; tests do not).</param>
    public static HostApplicationBuilder CreateBuilder(IReadOnlyCollection<Role> roles, IDictionary<string, string?>? overrides = null, bool serveOperatorEndpoints = false)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = Settings.EnvironmentName(),
            Args = [],
        });
        // the sources every command reads, in the same order (appsettings.json, appsettings.{Environment}.json,
        // the environment, secret files, then the callers' overrides), instead of the host's own list
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddProgramSettings(overrides);

        builder.AddCampaignEventsDatabases();
        var databases = new List<string>();
        if (roles.Contains(Role.Sync) || roles.Contains(Role.Reconcile))
        {
            databases.Add(DatabaseSettings.Contacts);
        }

        if (roles.Contains(Role.Source))
        {
            databases.Add(DatabaseSettings.Source);
        }

        builder.AddCampaignEventsLogging([.. databases]);
        if (serveOperatorEndpoints)
        {
            builder.AddOperatorEndpoints();
        }

        if (roles.Contains(Role.Sync))
        {
            builder.AddContactSync();
        }

        if (roles.Contains(Role.Source))
        {
            builder.AddSourceAdapter();
            builder.AddReconciliationSourceSide();
        }

        if (roles.Contains(Role.Reconcile))
        {
            builder.AddReconciliation();
        }

        // the name the broker shows for this process's connection: status lists each with its node
        builder.AddCampaignEventsBus($"campaign-events {string.Join('+', roles.Select(r => r.ToString().ToLowerInvariant()))} pid {Environment.ProcessId}");
        return builder;
    }
}
