using System.CommandLine;
using CampaignEvents.Cli.Hosting;
using CampaignEvents.Infrastructure.Configuration;
using Microsoft.Extensions.Hosting;

namespace CampaignEvents.Cli.Commands;

static class RunCommand
{
    public static Command Create()
    {
        var roles = new Option<Role[]>("--role")
        {
            Description = "Roles to host: source (captures the external database), sync (applies events locally), reconcile (checks and repairs drift). Repeat or list several; all by default.",
            AllowMultipleArgumentsPerToken = true,
        };
        var command = new Command("run", "Run the pipeline until Ctrl-C or SIGTERM; in-flight batches are finished before it stops.") { roles };
        command.SetAction((parse, cancel) => Failures.Guard(async () =>
        {
            var chosen = parse.GetValue(roles) is { Length: > 0 } r ? r : PipelineHost.AllRoles;
            // a wrong setting is one line before anything else is said (the ports' warnings of the builder)
            Preflight.Validate(Settings.Load(), chosen);
            var builder = PipelineHost.CreateBuilder(chosen, serveOperatorEndpoints: true);
            await Preflight.Check(builder.Configuration, chosen, cancel);
            using var host = builder.Build();
            await host.RunAsync(cancel);
            return 0;
        }));
        return command;
    }
}
