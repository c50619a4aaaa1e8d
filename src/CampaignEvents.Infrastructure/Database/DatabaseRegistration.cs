using CampaignEvents.Infrastructure.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace CampaignEvents.Infrastructure.Database;

public static class DatabaseRegistration
{
    /// <summary>
    /// One <see cref="NpgsqlDataSource"/> per database, keyed by its connection string name
    /// (<see cref="DatabaseSettings.Contacts"/>, <see cref="DatabaseSettings.Source"/>). Inject with
    /// <c>[FromKeyedServices(DatabaseSettings.Contacts)] NpgsqlDataSource</c>. A setting is read when
    /// the first service that needs it is created, so a role only needs the databases it uses.
    /// </summary>
    public static IHostApplicationBuilder AddCampaignEventsDatabases(this IHostApplicationBuilder builder)
    {
        foreach (var name in new[] { DatabaseSettings.Contacts, DatabaseSettings.Source })
        {
            builder.Services.AddKeyedSingleton(name, (provider, _) =>
                new NpgsqlDataSourceBuilder(DatabaseSettings.Require(builder.Configuration, name).ConnectionString)
                    .Build());
        }

        return builder;
    }
}
