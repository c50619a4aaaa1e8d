using System.Text.Json;
using CampaignEvents.Contracts;
using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Sync.LocalDatabase;
using Dapper;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace CampaignEvents.Sync.ApplyCampaignChanges;

/// <summary>A campaign event that can never be applied; goes to the error queue with this reason.</summary>
internal sealed class InvalidCampaignEventException(string message) : Exception(message);

/// <summary>Applies <see cref="CampaignChanged"/>: the newest version of a campaign wins, like contacts.</summary>
internal sealed partial class CampaignChangedConsumer(
    [FromKeyedServices(DatabaseSettings.Contacts)] NpgsqlDataSource dataSource,
    DatabaseBreaker breaker,
    ILogger<CampaignChangedConsumer> logger) : IConsumer<CampaignChanged>
{
    const string UpsertCampaign = """
        INSERT INTO campaigns (id, name, type, status, config, version, applied_at, updated_at)
        VALUES (@Id, @Name, @Type, @Status, @Config::jsonb, @Version, now(), now())
        ON CONFLICT (id) DO UPDATE
            SET name = excluded.name, type = excluded.type, status = excluded.status, config = excluded.config,
                version = excluded.version, applied_at = excluded.applied_at, updated_at = excluded.updated_at
            WHERE campaigns.version < excluded.version
        """;

    public async Task Consume(ConsumeContext<CampaignChanged> context)
    {
        var campaign = context.Message;
        Validate(campaign);
        var changed = await breaker.Run(
            async cancel =>
            {
                await using var connection = await dataSource.OpenConnectionAsync(cancel);
                return await connection.ExecuteAsync(new CommandDefinition(
                    UpsertCampaign,
                    new { campaign.Id, campaign.Name, campaign.Type, campaign.Status, Config = campaign.Config.GetRawText(), campaign.Version },
                    cancellationToken: cancel));
            },
            context.CancellationToken);
        LogApplied(campaign.Id, campaign.Version, changed == 1 ? "applied" : "stale, ignored");
    }

    static void Validate(CampaignChanged campaign)
    {
        var reason = campaign switch
        {
            { Id: var id } when id == Guid.Empty => "id is missing",
            { Version: < 0 } => $"version must not be negative ({campaign.Version})",
            { Name: null or "" } => "name is missing",
            { Type: null or "" } => "type is missing",
            { Status: null or "" } => "status is missing",
            { Config.ValueKind: not JsonValueKind.Object } => $"config must be a JSON object, not {campaign.Config.ValueKind.ToString().ToLowerInvariant()}",
            _ => null,
        };
        if (reason is not null)
        {
            throw new InvalidCampaignEventException($"campaign {campaign.Id}: {reason}");
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Campaign {CampaignId} version {Version}: {Outcome}")]
    partial void LogApplied(Guid campaignId, long version, string outcome);
}
