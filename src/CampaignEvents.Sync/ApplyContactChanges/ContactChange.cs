namespace CampaignEvents.Sync.ApplyContactChanges;

/// <summary>
/// One validated change of one contact: an upsert when <see cref="Metadata"/> holds the JSON
/// object, a delete when it is null.
/// </summary>
public readonly record struct ContactChange(Guid CampaignId, string PhoneNumber, long Version, string? Metadata)
{
    public bool IsDelete => Metadata is null;

    public (Guid CampaignId, string PhoneNumber) Key => (CampaignId, PhoneNumber);

    /// <summary>
    /// The event's <c>occurredAt</c>: the source commit's time for the adapter's events, the
    /// publisher's time for upstream events; only measured (end-to-end latency), never compared.
    /// </summary>
    public DateTimeOffset OccurredAt { get; init; }

    public static ContactChange Upsert(Guid campaignId, string phoneNumber, long version, string metadata, DateTimeOffset occurredAt = default) =>
        new(campaignId, phoneNumber, version, metadata) { OccurredAt = occurredAt };

    public static ContactChange Delete(Guid campaignId, string phoneNumber, long version, DateTimeOffset occurredAt = default) =>
        new(campaignId, phoneNumber, version, null) { OccurredAt = occurredAt };

    /// <summary>
    /// The order of last-writer-wins (docs/adr/0001): the higher version wins; at equal versions a
    /// delete wins over a change, and between two changes the one already there stays.
    /// </summary>
    public bool Beats(ContactChange other) =>
        Version > other.Version || (Version == other.Version && IsDelete && !other.IsDelete);
}
