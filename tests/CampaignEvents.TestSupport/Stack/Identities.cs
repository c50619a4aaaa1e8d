using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Infrastructure.Database;
using CampaignEvents.Throwaway;
using Npgsql;
using Xunit;

namespace CampaignEvents.TestSupport.Stack;

/// <summary>A job with its own database logins and broker user (README: Identities and permissions).</summary>
public enum Job
{
    Sync,
    Source,
    Reconcile,
    Pipeline,
    Status,
    Publisher,
}

/// <summary>
/// The least-privilege identities of docs/adr/0015 in the tests' own databases and vhosts: the
/// grants come from the same files the deployment uses (database/roles/*.sql, applied as the test
/// database's owner; the broker users' permissions of infra/compose/rabbitmq-definitions.json, set
/// on the test's vhost), so a test that runs a role with its identity proves the shipped grants.
/// The logins themselves are the stack's (infra/up.sh creates them, password = name unless
/// CE_ROLE_PASSWORD_&lt;NAME&gt; says otherwise); on a server without them (Testcontainers) the harness
/// creates them once.
/// </summary>
public static class Identities
{
    static readonly SemaphoreSlim Gate = new(1, 1);
    static readonly HashSet<string> ServersWithRoles = [];

    /// <summary>The broker users of the definitions file with their permission patterns, the administrator left out.</summary>
    public static IReadOnlyList<BrokerUser> BrokerUsers { get; } = ReadDefinitions();

    /// <summary>A role's password on the test stack.</summary>
    public static string Password(string name) =>
        System.Environment.GetEnvironmentVariable($"CE_ROLE_PASSWORD_{name.ToUpperInvariant().Replace('-', '_')}") is { Length: > 0 } value ? value : name;

    /// <summary>The connection to <paramref name="database"/> as <paramref name="role"/>.</summary>
    public static NpgsqlConnectionStringBuilder Login(NpgsqlConnectionStringBuilder database, string role) =>
        new(database.ConnectionString) { Username = role, Password = Password(role) };

    /// <summary>
    /// Applies database/roles/source.sql to a test source database as its owner (the source
    /// admin's one-time step), with the test's publication name.
    /// </summary>
    public static async Task GrantSource(NpgsqlConnectionStringBuilder sourceDb, string publication)
    {
        await EnsureRoles(sourceDb);
        await using var connection = new NpgsqlConnection(sourceDb.ConnectionString);
        await connection.OpenAsync();
        await RoleGrants.ApplySource(connection, publication);
    }

    /// <summary>Sets every role user's permissions of the definitions file on a test vhost (creating a missing user).</summary>
    public static async Task GrantBroker(HttpClient management, string vhost)
    {
        foreach (var user in BrokerUsers)
        {
            using var existing = await management.GetAsync($"api/users/{Uri.EscapeDataString(user.Name)}");
            if (existing.StatusCode == HttpStatusCode.NotFound)
            {
                (await management.PutAsJsonAsync($"api/users/{Uri.EscapeDataString(user.Name)}", new { password = Password(user.Name), tags = string.Join(',', user.Tags) })).EnsureSuccessStatusCode();
            }

            (await management.PutAsJsonAsync(
                $"api/permissions/{Uri.EscapeDataString(vhost)}/{Uri.EscapeDataString(user.Name)}",
                new { configure = user.Configure, write = user.Write, read = user.Read })).EnsureSuccessStatusCode();
        }
    }

    /// <summary>The broker settings of <paramref name="user"/> on the vhost of <paramref name="rabbit"/>.</summary>
    public static RabbitMqOptions As(RabbitMqOptions rabbit, string user)
    {
        // the same broker, vhost and TLS settings (one copy of them: ThrowawayVhosts.With), another login
        var options = ThrowawayVhosts.With(rabbit, rabbit.VirtualHost);
        options.Username = user;
        options.Password = Password(user);
        return options;
    }

    /// <summary>The broker user of a job.</summary>
    public static string BrokerUser(Job job) => job switch
    {
        Job.Sync => "campaign-events-sync",
        Job.Source => "campaign-events-source",
        Job.Reconcile => "campaign-events-reconcile",
        Job.Pipeline => "campaign-events-pipeline",
        Job.Status => "campaign-events-monitoring",
        Job.Publisher => "campaign-events-publisher",
        _ => throw new ArgumentOutOfRangeException(nameof(job)),
    };

    /// <summary>The login of a job in the local database (null: the job does not use it).</summary>
    public static string? LocalRole(Job job) => job switch
    {
        Job.Sync => RoleGrants.Roles.Sync,
        Job.Source => RoleGrants.Roles.Adapter,
        Job.Reconcile => RoleGrants.Roles.Reconcile,
        Job.Pipeline => RoleGrants.Roles.Pipeline,
        Job.Status => RoleGrants.Roles.Reader,
        _ => null,
    };

    /// <summary>The login of a job in the source database (null: the job does not use it).</summary>
    public static string? SourceRole(Job job) => job switch
    {
        Job.Source or Job.Pipeline => RoleGrants.Roles.Source,
        Job.Status => RoleGrants.Roles.Reader,
        _ => null,
    };

    /// <summary>
    /// The one place a test gets a job's identity: the settings (configuration keys, as
    /// <c>PipelineHost.CreateBuilder</c>'s overrides take them) that make a host or process run as
    /// <paramref name="job"/> on a test's own databases and vhost. <paramref name="localDb"/> and
    /// <paramref name="sourceDb"/> are the administrator's connections to them (host, port, database
    /// and options are kept, the login changes); a database the job does not use gets no connection
    /// string (null hides one given elsewhere), so a host cannot fall back to the administrator's.
    /// The databases need the grants (local.sql comes with the migrations; <see cref="GrantSource"/>
    /// on the source) and the vhost the users' permissions (<see cref="IsolatedVhost"/> sets them).
    /// </summary>
    public static Dictionary<string, string?> Settings(Job job, NpgsqlConnectionStringBuilder? localDb, NpgsqlConnectionStringBuilder? sourceDb)
    {
        var user = BrokerUser(job);
        return new Dictionary<string, string?>
        {
            ["RabbitMq:Username"] = user,
            ["RabbitMq:Password"] = Password(user),
            ["ConnectionStrings:Contacts"] = LocalRole(job) is { } local && localDb is not null ? Login(localDb, local).ConnectionString : null,
            ["ConnectionStrings:Source"] = SourceRole(job) is { } source && sourceDb is not null ? Login(sourceDb, source).ConnectionString : null,
        };
    }

    /// <summary><see cref="Settings"/> as environment variables of a <c>campaign-events</c> process.</summary>
    public static Dictionary<string, string?> Environment(Job job, NpgsqlConnectionStringBuilder? localDb, NpgsqlConnectionStringBuilder? sourceDb) =>
        Settings(job, localDb, sourceDb).ToDictionary(s => s.Key.Replace(":", "__", StringComparison.Ordinal), s => s.Value);

    /// <summary>
    /// <paramref name="settings"/> (a host's configuration overrides, ':' keys, holding the
    /// administrator's connection strings) with the identity of <paramref name="job"/> laid over
    /// them: the connection strings are re-issued for the job's logins on the same databases.
    /// </summary>
    public static Dictionary<string, string?> As(Job job, IReadOnlyDictionary<string, string?> settings)
    {
        static NpgsqlConnectionStringBuilder? Database(IReadOnlyDictionary<string, string?> settings, string key) =>
            settings.TryGetValue(key, out var value) && !string.IsNullOrEmpty(value) ? new NpgsqlConnectionStringBuilder(value) : null;

        var result = new Dictionary<string, string?>(settings);
        foreach (var (key, value) in Settings(job, Database(settings, "ConnectionStrings:Contacts"), Database(settings, "ConnectionStrings:Source")))
        {
            result[key] = value;
        }

        return result;
    }

    /// <summary>
    /// Makes sure the logins the stack has (infra/up.sh) can log in on the test server: on a server
    /// without them (Testcontainers, a superuser) the harness creates them, or sets their passwords
    /// when database/roles/local.sql created them without one. Call with the admin's connection.
    /// </summary>
    public static async Task EnsureRoles(NpgsqlConnectionStringBuilder admin)
    {
        await Gate.WaitAsync();
        try
        {
            await using var connection = new NpgsqlConnection(admin.ConnectionString);
            await connection.OpenAsync();

            // once per server (a throwaway server of a test lacks the stack's logins; its port may
            // be another's later, its start time is not)
            await using var started = new NpgsqlCommand("SELECT pg_postmaster_start_time()::text", connection);
            if (!ServersWithRoles.Add($"{admin.Host}:{admin.Port} {await started.ExecuteScalarAsync()}"))
            {
                return;
            }

            await using var super = new NpgsqlCommand("SELECT rolsuper FROM pg_roles WHERE rolname = current_user", connection);
            var superuser = (bool)(await super.ExecuteScalarAsync())!;
            foreach (var role in new[] { RoleGrants.Roles.Sync, RoleGrants.Roles.Adapter, RoleGrants.Roles.Reconcile, RoleGrants.Roles.Reader, RoleGrants.Roles.Pipeline, RoleGrants.Roles.Source })
            {
                await using var exists = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = @role)", connection);
                exists.Parameters.AddWithValue("role", role);
                var password = Password(role).Replace("'", "''", StringComparison.Ordinal);
                var replication = role == RoleGrants.Roles.Source ? " REPLICATION" : "";
                if (!(bool)(await exists.ExecuteScalarAsync())!)
                {
                    await using var create = new NpgsqlCommand($"CREATE ROLE \"{role}\" LOGIN{replication} PASSWORD '{password}'", connection);
                    await create.ExecuteNonQueryAsync();
                }
                else if (superuser)
                {
                    await using var alter = new NpgsqlCommand($"ALTER ROLE \"{role}\" LOGIN{replication} PASSWORD '{password}'", connection);
                    await alter.ExecuteNonQueryAsync();
                }
            }
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>The jobs' database logins (the administrator and the owner are none of them).</summary>
    public static IReadOnlySet<string> JobLogins { get; } = new HashSet<string>
    {
        RoleGrants.Roles.Sync, RoleGrants.Roles.Adapter, RoleGrants.Roles.Reconcile, RoleGrants.Roles.Reader, RoleGrants.Roles.Pipeline, RoleGrants.Roles.Source,
    };

    /// <summary>
    /// The guard that keeps the tests on the jobs' identities: fails when the settings a product
    /// host runs with (<paramref name="setting"/> reads its configuration) connect to a database
    /// or the broker as anything but a job's login or user, the administrator's above all.
    /// </summary>
    public static void RequireJobIdentity(Func<string, string?> setting, string host)
    {
        foreach (var key in new[] { "ConnectionStrings:Contacts", "ConnectionStrings:Source" })
        {
            if (setting(key) is { Length: > 0 } value)
            {
                var login = new NpgsqlConnectionStringBuilder(value).Username;
                Assert.True(login is not null && JobLogins.Contains(login),
                    $"{host} connects to {key} as {login}, not as a job's login: give it Identities.Settings (README: Identities and permissions)");
            }
        }

        var user = setting("RabbitMq:Username");
        Assert.True(user is not null && BrokerUsers.Any(u => u.Name == user),
            $"{host} connects to RabbitMQ as {user}, not as a job's user: give it Identities.Settings (README: Identities and permissions)");
    }

    /// <summary>
    /// The same guard on the broker itself: waits until at least <paramref name="expected"/>
    /// connections the product opened on <paramref name="vhost"/> are listed by the management API
    /// (their client-provided name starts with "campaign-events "; the harness's own have other
    /// names), all made by job users; fails when one made by another user (the administrator's)
    /// stays. Returns them.
    /// </summary>
    public static async Task<IReadOnlyList<(string Name, string User)>> RequireJobUsersOnBroker(HttpClient management, string vhost, int expected = 1)
    {
        IReadOnlyList<(string Name, string User)> found = [];
        await Eventually.Until(async () =>
        {
            var connections = await management.GetFromJsonAsync<JsonElement>($"api/vhosts/{Uri.EscapeDataString(vhost)}/connections");
            found = [.. connections.EnumerateArray()
                .Select(c => (
                    Name: c.TryGetProperty("client_properties", out var client) && client.TryGetProperty("connection_name", out var name) ? name.GetString() ?? "" : "",
                    User: c.GetProperty("user").GetString() ?? ""))
                .Where(c => c.Name.StartsWith("campaign-events ", StringComparison.Ordinal))];

            // a connection the harness closed a moment ago (its deployment step) may still be listed
            return found.Count >= expected && found.All(c => BrokerUsers.Any(u => u.Name == c.User));
        }, TimeSpan.FromSeconds(60), () => $"{expected} connection(s) of the product on vhost {vhost}, every one made by a job's user (give the process Identities.Settings; README: Identities and permissions); listed: {string.Join(", ", found)}");
        return found;
    }

    /// <summary>
    /// The guard on the databases: waits until each of <paramref name="logins"/> has a session on
    /// <paramref name="database"/> (pg_stat_activity, walsenders included), so a process meant to
    /// run as those jobs is proved to connect as them; fails naming who is connected otherwise.
    /// </summary>
    public static async Task RequireJobLoginsConnected(NpgsqlConnectionStringBuilder database, params string[] logins)
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        var connected = new List<string>();
        await Eventually.Until(async () =>
        {
            await using var sessions = new NpgsqlCommand("SELECT DISTINCT usename::text FROM pg_stat_activity WHERE datname = current_database() AND usename IS NOT NULL", connection);
            await using var reader = await sessions.ExecuteReaderAsync();
            connected.Clear();
            while (await reader.ReadAsync())
            {
                connected.Add(reader.GetString(0));
            }

            return logins.All(connected.Contains);
        }, TimeSpan.FromSeconds(60), () => $"{string.Join(", ", logins)} connected to {database.Database}; connected: {string.Join(", ", connected)}");
    }

    static List<BrokerUser> ReadDefinitions()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Repository.PathOf("infra/compose/rabbitmq-definitions.json")));
        var tags = document.RootElement.GetProperty("users").EnumerateArray()
            .ToDictionary(u => u.GetProperty("name").GetString()!, u => u.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!).ToArray());
        return [.. document.RootElement.GetProperty("permissions").EnumerateArray()
            .Select(p => (Name: p.GetProperty("user").GetString()!, Permission: p))
            .Where(p => !tags.GetValueOrDefault(p.Name, []).Contains("administrator"))
            .Select(p => new BrokerUser(p.Name, tags.GetValueOrDefault(p.Name, []),
                p.Permission.GetProperty("configure").GetString()!, p.Permission.GetProperty("write").GetString()!, p.Permission.GetProperty("read").GetString()!))];
    }
}

/// <summary>A broker user of the definitions file and its permission patterns on the product's vhost.</summary>
public sealed record BrokerUser(string Name, string[] Tags, string Configure, string Write, string Read);
