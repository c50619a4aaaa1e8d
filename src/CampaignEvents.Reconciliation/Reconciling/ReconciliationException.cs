namespace CampaignEvents.Reconciliation.Reconciling;

/// <summary>A run that cannot give a report: an unknown campaign, a source side that does not answer. Nothing was changed.</summary>
public sealed class ReconciliationException(string message, Exception? inner = null) : Exception(message, inner);
