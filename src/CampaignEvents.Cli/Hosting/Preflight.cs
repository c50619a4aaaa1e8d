using CampaignEvents.Cli.Commands;
using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.Source.Preflight;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace CampaignEvents.Cli.Hosting;

/// <summary>
/// Checks, before a host starts, that every server its roles need answers with the configured
/// settings, so a wrong setting ends the program with one line instead of retry noise.
/// </summary>
static class Preflight
{
    /// <param name="sourceShape">Also check the source's prerequisites (tables, replica identity, privilege); the demo creates them itself.</param>
    public static async Task Check(IConfiguration configuration, IReadOnlyCollection<Role> roles, CancellationToken cancel, bool sourceShape = true)
    {
        // every role keeps something in the local database (the source adapter its snapshot state)
        await Database(configuration, DatabaseSettings.Contacts, cancel);

        if (roles.Contains(Role.Source))
        {
            await Database(configuration, DatabaseSettings.Source, cancel);
            if (sourceShape)
            {
                await SourcePreflight.CheckAsync(configuration, cancel);
            }
        }

        var rabbit = configuration.GetSection(RabbitMqOptions.Section).Get<RabbitMqOptions>() ?? new RabbitMqOptions();
        if (string.IsNullOrEmpty(rabbit.Password))
        {
            throw new SettingsException("setting RabbitMq:Password is missing: set the environment variable RabbitMq__Password, or RabbitMq__Password_FILE to a file holding it (source infra/env.sh for the local stack)");
        }

        await using var connection = await BrokerConnection.Open(rabbit, "campaign-events preflight", cancel);
    }

    static async Task Database(IConfiguration configuration, string name, CancellationToken cancel)
    {
        var target = DatabaseSettings.Require(configuration, name);
        try
        {
            await using var connection = new NpgsqlConnection(target.ConnectionString);
            await connection.OpenAsync(cancel);
        }
        catch (NpgsqlException e)
        {
            throw Failures.Database(name, target, e);
        }
    }
}
