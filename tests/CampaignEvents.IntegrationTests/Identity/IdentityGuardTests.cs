using CampaignEvents.TestSupport;
using CampaignEvents.TestSupport.Stack;
using Xunit;

namespace CampaignEvents.IntegrationTests.Identity;

/// <summary>
/// What keeps the suite on the jobs' identities (issue 15: "the whole suite runs with them, not
/// with an all-powerful user"): every in-process host is built through <c>RoleHosts</c>, which gives
/// it its job's logins and user and refuses the administrator's; the fixtures of the pipeline tests
/// check the connections themselves (<see cref="Identities.RequireJobUsersOnBroker"/>,
/// <see cref="Identities.RequireJobLoginsConnected"/>).
/// </summary>
public sealed class IdentityGuardTests
{
    /// <summary>Where a test may build a host itself, and why.</summary>
    static readonly Dictionary<string, string> Allowed = new()
    {
        ["Pipeline/RoleHosts.cs"] = "the one place that builds them, with the job's identity",
        ["Hardening/TlsTransportTests.cs"] = "a hardened user of its own on the TLS servers it starts (SecureStack)",
    };

    /// <summary>The call that builds a host (split, so this file does not name it).</summary>
    static readonly string HostBuilder = string.Concat("PipelineHost", ".CreateBuilder(");

    [Fact]
    public void No_test_builds_a_pipeline_host_but_through_RoleHosts()
    {
        var root = Repository.PathOf("tests/CampaignEvents.IntegrationTests");
        var offenders = Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(root, f).Replace(Path.DirectorySeparatorChar, '/'))
            .Where(f => !Allowed.ContainsKey(f) && File.ReadAllText(Path.Combine(root, f)).Contains(HostBuilder, StringComparison.Ordinal))
            .ToList();
        Assert.True(offenders.Count == 0, $"these build a host without a job's identity (use RoleHosts.Build): {string.Join(", ", offenders)}");
    }

    [Fact]
    public void A_host_whose_settings_name_the_administrator_is_refused_in_one_line()
    {
        var admin = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Contacts"] = "Host=127.0.0.1;Database=x;Username=campaign_events;Password=secret",
            ["RabbitMq:Username"] = Identities.BrokerUser(Job.Sync),
        };
        var e = Assert.ThrowsAny<Exception>(() => Identities.RequireJobIdentity(key => admin.GetValueOrDefault(key), "the sync host"));
        Assert.Contains("connects to ConnectionStrings:Contacts as campaign_events, not as a job's login", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", e.Message, StringComparison.Ordinal);

        var broker = new Dictionary<string, string?>(Identities.As(Job.Sync, admin)) { ["RabbitMq:Username"] = "campaign-events" };
        var refused = Assert.ThrowsAny<Exception>(() => Identities.RequireJobIdentity(key => broker.GetValueOrDefault(key), "the sync host"));
        Assert.Contains("connects to RabbitMQ as campaign-events, not as a job's user", refused.Message, StringComparison.Ordinal);

        // the identity laid over the same settings passes
        Identities.RequireJobIdentity(key => Identities.As(Job.Sync, admin).GetValueOrDefault(key), "the sync host");
    }
}
