using CampaignEvents.Bench;

return await BenchRoot.Create().Parse(args).InvokeAsync();
