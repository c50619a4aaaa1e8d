using CampaignEvents.Cli;

return await CliRoot.Create().Parse(args).InvokeAsync();
