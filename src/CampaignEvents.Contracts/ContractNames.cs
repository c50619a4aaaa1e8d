namespace CampaignEvents.Contracts;

/// <summary>
/// The exchanges an upstream system publishes the contract's messages to (RabbitMQ fanout
/// exchanges, durable, plain JSON bodies with camelCase properties). Stable: changing a name is a
/// breaking change of the contract. The consumer's topology uses these same constants.
/// </summary>
public static class ContractNames
{
    /// <summary>Exchange for <see cref="ContactChanged"/> JSON.</summary>
    public const string ContactChangedExchange = "contact-changed";

    /// <summary>Exchange for <see cref="ContactDeleted"/> JSON.</summary>
    public const string ContactDeletedExchange = "contact-deleted";

    /// <summary>Exchange for <see cref="ContactChangeBatch"/> JSON (many changes per message).</summary>
    public const string ContactChangeBatchExchange = "contact-change-batch";

    /// <summary>Exchange for <see cref="CampaignChanged"/> JSON.</summary>
    public const string CampaignChangedExchange = "campaign-changed";

    /// <summary>Every exchange of the contract.</summary>
    public static readonly IReadOnlyList<string> Exchanges =
        [ContactChangedExchange, ContactDeletedExchange, ContactChangeBatchExchange, CampaignChangedExchange];
}
