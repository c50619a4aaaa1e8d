using CampaignEvents.Contracts;

namespace CampaignEvents.Infrastructure.Messaging;

/// <summary>
/// The names operators read in the RabbitMQ dashboard and upstream systems publish to. Short,
/// kebab-case and stable: changing one is a breaking change of the public contract. The contract's
/// exchanges have their home in <see cref="ContractNames"/> (the CampaignEvents.Contracts package).
/// </summary>
public static class Topology
{
    /// <summary>Exchange for <c>ContactChanged</c> JSON.</summary>
    public const string ContactChangedExchange = ContractNames.ContactChangedExchange;

    /// <summary>Exchange for <c>ContactDeleted</c> JSON.</summary>
    public const string ContactDeletedExchange = ContractNames.ContactDeletedExchange;

    /// <summary>Exchange for <c>ContactChangeBatch</c> JSON (many changes per message).</summary>
    public const string ContactChangeBatchExchange = ContractNames.ContactChangeBatchExchange;

    /// <summary>Exchange for <c>CampaignChanged</c> JSON.</summary>
    public const string CampaignChangedExchange = ContractNames.CampaignChangedExchange;

    /// <summary>The sync consumer's queue, bound to the three contact exchanges.</summary>
    public const string ContactChangesQueue = "contact-changes";

    /// <summary>The campaign consumer's queue, bound to <see cref="CampaignChangedExchange"/>.</summary>
    public const string CampaignChangesQueue = "campaign-changes";

    /// <summary>The reconciliation consumer's queue.</summary>
    public const string ReconciliationQueue = "reconciliation";

    /// <summary>Exchange for <c>ReconcileCampaign</c> commands (bound to <see cref="ReconciliationQueue"/>).</summary>
    public const string ReconcileCampaignExchange = "reconcile-campaign";

    /// <summary>Exchange for <c>CampaignReconciled</c> reports.</summary>
    public const string CampaignReconciledExchange = "campaign-reconciled";

    /// <summary>The source side of reconciliation: bucket digests of the external database.</summary>
    public const string ReconciliationSourceDigestQueue = "reconciliation-source-digest";

    /// <summary>The source side of reconciliation: keys and row hashes of the external database.</summary>
    public const string ReconciliationSourceKeysQueue = "reconciliation-source-keys";

    /// <summary>The source side of reconciliation: re-publishes drifted keys.</summary>
    public const string ReconciliationSourceRepairQueue = "reconciliation-source-repair";

    /// <summary>The source side of reconciliation: lists the source's campaigns.</summary>
    public const string ReconciliationSourceCampaignsQueue = "reconciliation-source-campaigns";

    // The pinned names of reconciliation's requests and responses (BusRegistration.ConfigureWire),
    // so the exchange a message goes to never depends on a C# namespace. A request's name is the
    // exchange of its queue: sent (as the request clients do) or published, it reaches that queue,
    // and it needs no exchange or permission of its own. Responses are only ever sent to the
    // requester's response address: no exchange of their names is declared, and no role may
    // create one (infra/compose/rabbitmq-definitions.json).

    /// <summary>Pinned name of <c>DigestSourceContacts</c> requests: the exchange of <see cref="ReconciliationSourceDigestQueue"/>.</summary>
    public const string DigestSourceContactsExchange = ReconciliationSourceDigestQueue;

    /// <summary>Pinned name of <c>ListSourceKeys</c> requests: the exchange of <see cref="ReconciliationSourceKeysQueue"/>.</summary>
    public const string ListSourceKeysExchange = ReconciliationSourceKeysQueue;

    /// <summary>Pinned name of <c>RepairSourceContacts</c> commands: the exchange of <see cref="ReconciliationSourceRepairQueue"/>.</summary>
    public const string RepairSourceContactsExchange = ReconciliationSourceRepairQueue;

    /// <summary>Pinned name of <c>ListSourceCampaigns</c> requests: the exchange of <see cref="ReconciliationSourceCampaignsQueue"/>.</summary>
    public const string ListSourceCampaignsExchange = ReconciliationSourceCampaignsQueue;

    /// <summary>Pinned name of <c>SourceContactsDigested</c> responses (sent to the response address, never published).</summary>
    public const string SourceContactsDigestedName = "source-contacts-digested";

    /// <summary>Pinned name of <c>SourceKeysListed</c> responses (sent to the response address, never published).</summary>
    public const string SourceKeysListedName = "source-keys-listed";

    /// <summary>Pinned name of <c>SourceContactsRepaired</c> responses (sent to the response address, never published).</summary>
    public const string SourceContactsRepairedName = "source-contacts-repaired";

    /// <summary>Pinned name of <c>SourceCampaignsListed</c> responses (sent to the response address, never published).</summary>
    public const string SourceCampaignsListedName = "source-campaigns-listed";

    /// <summary>MassTransit's convention: a queue's faulted messages go to "&lt;queue&gt;_error".</summary>
    public static string ErrorQueue(string queue) => $"{queue}_error";

    /// <summary>
    /// The wait queue of one back-off step of contacts whose campaign is not there yet, named after
    /// its TTL (<c>contact-changes-wait-30s</c>); its messages go back to <see cref="ContactChangesQueue"/>
    /// when the TTL ends. A queue's TTL cannot change once declared, so each TTL has its own name.
    /// </summary>
    public static string WaitQueue(TimeSpan delay)
    {
        var ms = (long)delay.TotalMilliseconds;
        var suffix = ms % 1000 != 0 ? $"{ms}ms"
            : ms % 60_000 != 0 ? $"{ms / 1000}s"
            : ms % 3_600_000 != 0 ? $"{ms / 60_000}m"
            : $"{ms / 3_600_000}h";
        return $"{ContactChangesQueue}-wait-{suffix}";
    }

    /// <summary>The contract's exchanges, which upstream systems and the source adapter publish to.</summary>
    public static readonly IReadOnlyList<string> ContractExchanges = ContractNames.Exchanges;
}
