namespace CampaignEvents.Source.SlotHealth;

/// <summary>What the adapter does with its slot at the start of a session.</summary>
public enum SlotDecision
{
    /// <summary>The slot exists and can stream: go on from its confirmed position.</summary>
    Resume,

    /// <summary>No slot and no completed snapshot recorded: a first start, create it and take the snapshot.</summary>
    Create,

    /// <summary>Source:RecreateSlot on a dropped or invalidated slot: (drop and) create it, then take a new snapshot.</summary>
    Recreate,

    /// <summary>Refuse: the slot is gone or invalidated and the changes made meanwhile are lost to it.</summary>
    Refuse,
}

/// <summary>
/// Whether a slot still holds every change since the snapshot the local database was built from
/// (docs/adr/0004, "A slot that is gone"). A slot dropped after a completed snapshot, or
/// invalidated by max_slot_wal_keep_size, has lost changes; a new snapshot would restore the rows
/// but not the deletes made meanwhile, so the adapter refuses until an operator chooses
/// Source:RecreateSlot and then repairs with reconciliation.
/// </summary>
public static class SlotContinuity
{
    public static SlotDecision Decide(SlotObservation slot, bool snapshotCompleted, bool recreate) => slot switch
    {
        { Exists: true, Lost: false } => SlotDecision.Resume,
        { Exists: false } when !snapshotCompleted => SlotDecision.Create,
        _ when recreate => SlotDecision.Recreate,
        _ => SlotDecision.Refuse,
    };

    /// <summary>The one line an operator reads when the adapter refuses.</summary>
    public static string Refusal(SlotObservation slot)
    {
        var what = slot.Lost
            ? $"replication slot {slot.Name} was invalidated on the source (wal_status lost: it fell behind by more than max_slot_wal_keep_size)"
            : $"replication slot {slot.Name} was dropped on the source after the adapter's snapshot completed";
        return $"{what}; changes made while it was gone are lost to it. To take a new snapshot, set Source__RecreateSlot=true and start again, then run campaign-events reconcile --all --repair to remove rows deleted meanwhile";
    }
}
