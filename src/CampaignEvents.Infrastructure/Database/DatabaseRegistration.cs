using CampaignEvents.Infrastructure.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace CampaignEvents.Infrastructure.Database;

public static class DatabaseRegistration
{
    /// <summary>
    /// One <see cref="NpgsqlDataSource"/> per database, keyed by its connection string name
    /// (<see cref="DatabaseSettings.Contacts"/>, <see cref="DatabaseSettings.Source"/>). Inject with
    /// <c>[FromKeyedServices(DatabaseSettings.Contacts)] NpgsqlDataSource</c>. A setting is read when
    /// the first service that needs it is created, so a role only needs the databases it uses.
    /// Npgsql logs through the host's logger factory (what Npgsql.DependencyInjection's
    /// <c>AddNpgsqlDataSource</c> does; that package is not used here), so its warnings reach the same
    /// console and JSON lines as ours. Parameter logging stays off: values are contacts' data.
    /// </summary>
    public static IHostApplicationBuilder AddCampaignEventsDatabases(this IHostApplicationBuilder builder)
    {
        foreach (var name in new[] { DatabaseSettings.Contacts, DatabaseSettings.Source })
        {
            builder.Services.AddKeyedSingleton(name, (provider, _) =>
                new NpgsqlDataSourceBuilder(DatabaseSettings.Require(builder.Configuration, name).ConnectionString)
                    .UseLoggerFactory(provider.GetRequiredService<ILoggerFactory>())
                    .Build());
        }

        return builder;
    }
}
