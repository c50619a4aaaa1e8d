namespace CampaignEvents.Sync.ApplyContactChanges;

/// <summary>
/// The message can never be applied as it is (malformed, missing or wrong-typed field, invalid
/// phone, metadata not an object or too large, negative version). Not retried: it goes to the
/// error queue at once, and its message is the reason the operator reads there.
/// </summary>
internal sealed class InvalidContactEventException(string message) : Exception(message);

/// <summary>The contact's campaign is not in the local database (yet): retried with back-off, then the error queue.</summary>
internal sealed class UnknownCampaignException(string message) : Exception(message);

/// <summary>
/// A valid message the database refuses for a reason that does not pass by itself (a value
/// PostgreSQL cannot store that validation did not foresee): found by applying its batch in parts,
/// sent to the error queue alone, its neighbours applied (docs/adr/0002).
/// </summary>
internal sealed class ContactRefusedException(string message, Exception inner) : Exception(message, inner);
