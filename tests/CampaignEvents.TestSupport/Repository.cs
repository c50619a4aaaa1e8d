namespace CampaignEvents.TestSupport;

/// <summary>Files of the repository the tests check against (README, docker-compose.yml).</summary>
public static class Repository
{
    /// <summary>The folder holding CampaignEvents.sln, found by walking up from the test binaries.</summary>
    public static string Root { get; } = Find();

    public static string PathOf(string relative) => Path.Combine(Root, relative);

    static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CampaignEvents.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"CampaignEvents.sln not found above {AppContext.BaseDirectory}");
    }
}
