using System.Reflection;
using System.Text.RegularExpressions;
using CampaignEvents.Contracts;
using CampaignEvents.Contracts.Reconciliation;
using CampaignEvents.Infrastructure.Messaging;
using CampaignEvents.TestSupport.Stack;
using MassTransit;
using Xunit;

namespace CampaignEvents.UnitTests.Messaging;

/// <summary>
/// The names a message has on the wire: its entity name (the RabbitMQ exchange a publish goes to)
/// and its message URN (the header <c>MT-MessageType</c>). Publishers in other languages, the
/// topology, the broker users' permissions and contracts/asyncapi.yaml rely on them, so renaming or
/// moving a contract type must fail here rather than change the wire.
/// </summary>
public sealed class MessageNamesTests
{
    /// <summary>Every message of CampaignEvents.Contracts: its URN and its pinned entity name.</summary>
    public static TheoryData<Type, string, string> Messages => new()
    {
        { typeof(ContactChanged), "urn:message:CampaignEvents.Contracts:ContactChanged", "contact-changed" },
        { typeof(ContactDeleted), "urn:message:CampaignEvents.Contracts:ContactDeleted", "contact-deleted" },
        { typeof(ContactChangeBatch), "urn:message:CampaignEvents.Contracts:ContactChangeBatch", "contact-change-batch" },
        { typeof(CampaignChanged), "urn:message:CampaignEvents.Contracts:CampaignChanged", "campaign-changed" },
        { typeof(ReconcileCampaign), "urn:message:CampaignEvents.Contracts.Reconciliation:ReconcileCampaign", "reconcile-campaign" },
        { typeof(CampaignReconciled), "urn:message:CampaignEvents.Contracts.Reconciliation:CampaignReconciled", "campaign-reconciled" },
        { typeof(DigestSourceContacts), "urn:message:CampaignEvents.Contracts.Reconciliation:DigestSourceContacts", "reconciliation-source-digest" },
        { typeof(SourceContactsDigested), "urn:message:CampaignEvents.Contracts.Reconciliation:SourceContactsDigested", "source-contacts-digested" },
        { typeof(ListSourceKeys), "urn:message:CampaignEvents.Contracts.Reconciliation:ListSourceKeys", "reconciliation-source-keys" },
        { typeof(SourceKeysListed), "urn:message:CampaignEvents.Contracts.Reconciliation:SourceKeysListed", "source-keys-listed" },
        { typeof(RepairSourceContacts), "urn:message:CampaignEvents.Contracts.Reconciliation:RepairSourceContacts", "reconciliation-source-repair" },
        { typeof(SourceContactsRepaired), "urn:message:CampaignEvents.Contracts.Reconciliation:SourceContactsRepaired", "source-contacts-repaired" },
        { typeof(ListSourceCampaigns), "urn:message:CampaignEvents.Contracts.Reconciliation:ListSourceCampaigns", "reconciliation-source-campaigns" },
        { typeof(SourceCampaignsListed), "urn:message:CampaignEvents.Contracts.Reconciliation:SourceCampaignsListed", "source-campaigns-listed" },
    };

    /// <summary>Records that only travel inside a message, never alone.</summary>
    static readonly Type[] Parts = [typeof(DriftedContact), typeof(RejectedSourceRow)];

    static readonly string[] Requests = [Topology.DigestSourceContactsExchange, Topology.ListSourceKeysExchange, Topology.RepairSourceContactsExchange, Topology.ListSourceCampaignsExchange];

    static readonly string[] Responses = [Topology.SourceContactsDigestedName, Topology.SourceKeysListedName, Topology.SourceContactsRepairedName, Topology.SourceCampaignsListedName];

    // built with the project's wire settings, never started: no broker is needed to read its topology
    static readonly IBusControl Bus = MassTransit.Bus.Factory.CreateUsingRabbitMq(BusRegistration.ConfigureWire);

    [Theory]
    [MemberData(nameof(Messages))]
    public void Every_message_keeps_its_urn_and_its_pinned_exchange(Type message, string urn, string exchange)
    {
        Assert.Equal(urn, MessageUrn.ForTypeString(message));
        var (entityName, publishAddress) = Names(message);
        Assert.Equal(exchange, entityName);
        Assert.EndsWith($"/{exchange}", publishAddress.AbsolutePath, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_record_of_the_contracts_is_a_pinned_message_or_a_part_of_one()
    {
        var pinned = Messages.Select(row => row.Data.Item1).ToHashSet();
        var records = typeof(ContactChanged).Assembly.GetExportedTypes().Where(t => t.IsClass && !t.IsAbstract);

        Assert.All(records, record => Assert.True(
            pinned.Contains(record) || Parts.Contains(record),
            $"{record.FullName} has no pinned name: add it to BusRegistration.ConfigureWire and to this test (or to Parts if it only travels inside a message)"));
    }

    [Theory]
    [InlineData(Job.Reconcile)]
    [InlineData(Job.Pipeline)]
    public void The_requesting_user_may_write_every_request_and_no_user_may_create_a_response_exchange(Job requester)
    {
        var user = Identities.BrokerUsers.Single(u => u.Name == Identities.BrokerUser(requester));
        Assert.All(Requests, name => Assert.Matches(user.Write, name));

        // responses are sent to the requester's response address; an exchange of their name would
        // only appear through a publish, which least privilege refuses
        var patterns = Identities.BrokerUsers.SelectMany(u => new[] { u.Configure, u.Write }).Where(p => p.Length > 0);
        Assert.All(patterns, pattern => Assert.All(Responses, name => Assert.DoesNotMatch(new Regex(pattern), name)));
    }

    static (string EntityName, Uri PublishAddress) Names(Type message) =>
        ((string, Uri))typeof(MessageNamesTests).GetMethod(nameof(NamesOf), BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(message).Invoke(null, null)!;

    static (string, Uri) NamesOf<T>()
        where T : class =>
        (Bus.Topology.Message<T>().EntityName,
         Bus.Topology.TryGetPublishAddress<T>(out var address) ? address : throw new InvalidOperationException($"no publish address for {typeof(T).Name}"));
}
