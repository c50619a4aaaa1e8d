using System.CommandLine;
using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Infrastructure.Observability;

namespace CampaignEvents.Cli.Commands;

/// <summary>
/// Asks a running <c>campaign-events run</c> whether it is ready: the container image's
/// <c>HEALTHCHECK</c> and compose's healthchecks use it, since the runtime image has no curl.
/// </summary>
static class HealthCommand
{
    public const int Unhealthy = 1;

    public static Command Create()
    {
        var url = new Option<string?>("--url")
        {
            Description = "The endpoint to ask; by default /readyz on 127.0.0.1 at Observability:HealthPort (9465). Use /healthz to ask only whether the process is alive.",
        };
        var timeout = new Option<int>("--timeout")
        {
            Description = "Seconds to wait for the answer.",
            DefaultValueFactory = _ => 5,
        };
        var command = new Command("health", "Probe a running `campaign-events run`: exit 0 when its /readyz answers 200, 1 otherwise (with the answer on one line). For container healthchecks.") { url, timeout };
        command.SetAction((parse, cancel) => Failures.Guard(async () =>
        {
            var target = parse.GetValue(url) is { } given
                ? Uri.TryCreate(given, UriKind.Absolute, out var u) && u.Scheme is "http" or "https" ? u : throw new Infrastructure.Configuration.SettingsException($"--url: '{given}' is not an http:// address")
                : DefaultUrl();
            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(Math.Max(1, parse.GetValue(timeout))) };
            try
            {
                using var response = await client.GetAsync(target, cancel);
                var body = (await response.Content.ReadAsStringAsync(cancel)).ReplaceLineEndings(" ");
                if (response.IsSuccessStatusCode)
                {
                    Console.WriteLine($"{target}: {(int)response.StatusCode} {body}");
                    return 0;
                }

                await Console.Error.WriteLineAsync($"unhealthy: {target}: {(int)response.StatusCode} {body}");
                return Unhealthy;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancel.IsCancellationRequested)
            {
                await Console.Error.WriteLineAsync($"unhealthy: {target}: {e.Message}");
                return Unhealthy;
            }
        }));
        return command;
    }

    static Uri DefaultUrl()
    {
        var options = Settings.Load().Valid<ObservabilityOptions>(ObservabilityOptions.Section);
        var host = options.ListensOnAllInterfaces || options.BindAddress() is null ? "127.0.0.1" : options.PrefixHost();
        return new Uri($"http://{host}:{options.HealthPort}/readyz");
    }
}
