namespace CampaignEvents.Infrastructure.Configuration;

/// <summary>
/// A setting is missing or wrong. The message names the setting and never holds a secret;
/// the command line prints it as one line and exits.
/// </summary>
public sealed class SettingsException(string message, Exception? inner = null) : Exception(message, inner);
