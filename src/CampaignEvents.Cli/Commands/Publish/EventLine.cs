using System.Text.Json;
using CampaignEvents.Contracts;
using CampaignEvents.Infrastructure.Messaging;

namespace CampaignEvents.Cli.Commands.Publish;

/// <summary>
/// One line of an events file: which exchange it goes to, found from its shape, and checked
/// against the contract before it is sent.
/// </summary>
sealed record EventLine(int Number, string Exchange, ReadOnlyMemory<byte> Body)
{
    static readonly JsonSerializerOptions Contract = new(JsonSerializerDefaults.Web)
    {
        RespectRequiredConstructorParameters = true,
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Skip,
    };

    /// <summary>
    /// The exchange of a JSON object by its properties: <c>changes</c>/<c>deletes</c> → batch,
    /// <c>name</c>+<c>status</c> → campaign, <c>metadata</c> → contact changed, otherwise contact deleted.
    /// </summary>
    public static (EventLine? Line, string? Error) Parse(int number, string text)
    {
        JsonElement json;
        try
        {
            json = JsonSerializer.Deserialize<JsonElement>(text);
        }
        catch (JsonException e)
        {
            return (null, $"not valid JSON ({e.Message})");
        }

        if (json.ValueKind != JsonValueKind.Object)
        {
            return (null, "not a JSON object");
        }

        bool Has(string name) => json.EnumerateObject().Any(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));

        var (exchange, type) =
            Has("changes") || Has("deletes") ? (Topology.ContactChangeBatchExchange, typeof(ContactChangeBatch)) :
            Has("name") && Has("status") ? (Topology.CampaignChangedExchange, typeof(CampaignChanged)) :
            Has("metadata") ? (Topology.ContactChangedExchange, typeof(ContactChanged)) :
            (Topology.ContactDeletedExchange, typeof(ContactDeleted));
        try
        {
            // the sync consumer checks everything again; this catches a missing or mistyped field early
            _ = json.Deserialize(type, Contract);
        }
        catch (JsonException e)
        {
            return (null, $"not a valid {type.Name} for exchange {exchange} ({e.Message})");
        }

        return (new EventLine(number, exchange, System.Text.Encoding.UTF8.GetBytes(text.Trim())), null);
    }
}
