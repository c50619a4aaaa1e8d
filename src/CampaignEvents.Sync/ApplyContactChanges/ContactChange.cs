namespace CampaignEvents.Sync.ApplyContactChanges;

/// <summary>
/// One validated change of one contact: an upsert when <see cref="Metadata"/> holds the JSON
/// object, a delete when it is null.
/// </summary>
public readonly record struct ContactChange(Guid CampaignId, string PhoneNumber, long Version, string? Metadata)
{
    public bool IsDelete => Metadata is null;

    public (Guid CampaignId, string PhoneNumber) Key => (CampaignId, PhoneNumber);

    public static ContactChange Upsert(Guid campaignId, string phoneNumber, long version, string metadata) =>
        new(campaignId, phoneNumber, version, metadata);

    public static ContactChange Delete(Guid campaignId, string phoneNumber, long version) =>
        new(campaignId, phoneNumber, version, null);

    /// <summary>
    /// The order of last-writer-wins (docs/adr/0001): the higher version wins; at equal versions a
    /// delete wins over a change, and between two changes the one already there stays.
    /// </summary>
    public bool Beats(ContactChange other) =>
        Version > other.Version || (Version == other.Version && IsDelete && !other.IsDelete);
}
