using System.Globalization;
using CampaignEvents.Infrastructure.Configuration;
using CampaignEvents.Infrastructure.Database;
using CampaignEvents.Source.Mapping;
using CampaignEvents.TestSupport.Stack;
using Npgsql;
using Xunit;

namespace CampaignEvents.IntegrationTests.Hardening;

/// <summary>
/// Servers the way a hardened deployment runs them, started by the tests with certificates they
/// make themselves: a PostgreSQL that takes TLS connections only and asks for a password, a
/// RabbitMQ node with AMQP over TLS (client certificate required) and the management API over
/// HTTPS, a broker user with a password. The passwords are random per run and sit in files of a
/// secrets folder, the way Docker and Kubernetes hand them out.
/// </summary>
public sealed class SecureStack : IAsyncLifetime
{
    public const string RabbitUser = "ce-hardened";

    public ThrowawayCertificates Certificates { get; private set; } = null!;

    public ThrowawayPostgres Postgres { get; private set; } = null!;

    public ThrowawayRabbitMq Broker { get; private set; } = null!;

    /// <summary>Known passwords that must never be printed.</summary>
    public string PostgresPassword { get; } = $"pg-{Guid.NewGuid():N}"[..24];

    public string RabbitPassword { get; } = $"mq-{Guid.NewGuid():N}"[..24];

    /// <summary>A key-per-file folder: RabbitMq__Password, DatabasePasswords__Contacts, DatabasePasswords__Source.</summary>
    public string SecretsFolder { get; } = Path.Combine(Path.GetTempPath(), $"ce-secrets-{Guid.NewGuid():N}");

    public string PostgresPasswordFile => Path.Combine(SecretsFolder, "DatabasePasswords__Contacts");

    public string RabbitPasswordFile => Path.Combine(SecretsFolder, "RabbitMq__Password");

    public async ValueTask InitializeAsync()
    {
        Certificates = await ThrowawayCertificates.Create();
        Postgres = await ThrowawayPostgres.Start("logical", Certificates, PostgresPassword);
        Broker = await ThrowawayRabbitMq.Start(certificates: Certificates);
        await Broker.Control("add_user", RabbitUser, RabbitPassword);
        await Broker.Control("set_user_tags", RabbitUser, "administrator");
        Directory.CreateDirectory(SecretsFolder);
        await File.WriteAllTextAsync(RabbitPasswordFile, RabbitPassword + "\n");
        await File.WriteAllTextAsync(PostgresPasswordFile, PostgresPassword + "\n");
        await File.WriteAllTextAsync(Path.Combine(SecretsFolder, "DatabasePasswords__Source"), PostgresPassword + "\n");
    }

    /// <summary>A vhost of its own on the node, the hardened user allowed in it.</summary>
    public async Task<string> NewVhost()
    {
        var vhost = $"ce-{Guid.NewGuid():N}"[..16];
        await Broker.Control("add_vhost", vhost);
        await Broker.Control("set_permissions", "-p", vhost, RabbitUser, ".*", ".*", ".*");
        return vhost;
    }

    /// <summary>A migrated local database and a source database in the default shape, on the TLS server.</summary>
    public async Task<(NpgsqlConnectionStringBuilder Local, NpgsqlConnectionStringBuilder Source)> NewDatabases()
    {
        var suffix = Guid.NewGuid().ToString("N")[..10];
        await Postgres.CreateDatabase($"loc_{suffix}");
        await Postgres.CreateDatabase($"src_{suffix}");
        var local = Postgres.Connection($"loc_{suffix}");
        var source = Postgres.Connection($"src_{suffix}");
        Migrator.Apply(local);
        await using var connection = new NpgsqlConnection(source.ConnectionString);
        await connection.OpenAsync();
        await using var schema = new NpgsqlCommand(DefaultSourceSchema.Sql, connection);
        await schema.ExecuteNonQueryAsync();
        return (local, source);
    }

    /// <summary>The broker over TLS as the hardened user, with the client certificate and the management API over HTTPS.</summary>
    public RabbitMqOptions Rabbit(string vhost) => new()
    {
        Host = "127.0.0.1",
        Port = Broker.TlsPort,
        ManagementPort = Broker.ManagementPort,
        ManagementHttps = true,
        VirtualHost = vhost,
        Username = RabbitUser,
        Password = RabbitPassword,
        Tls = new RabbitMqTlsOptions
        {
            Enabled = true,
            CaFile = Certificates.CaFile,
            ClientCertificateFile = Certificates.ClientCertificateFile,
            ClientKeyFile = Certificates.ClientKeyFile,
        },
    };

    /// <summary>
    /// The environment of a campaign-events process: everything over TLS, and no password in any
    /// variable: the connection strings carry none, the passwords come from the secrets folder.
    /// </summary>
    public Dictionary<string, string?> Environment(string vhost, NpgsqlConnectionStringBuilder local, NpgsqlConnectionStringBuilder source)
    {
        var rabbit = Rabbit(vhost);
        return new Dictionary<string, string?>
        {
            ["ConnectionStrings__Contacts"] = WithoutPassword(local),
            ["ConnectionStrings__Source"] = WithoutPassword(source),
            ["RabbitMq__Host"] = rabbit.Host,
            ["RabbitMq__Port"] = rabbit.Port.ToString(CultureInfo.InvariantCulture),
            ["RabbitMq__ManagementPort"] = rabbit.ManagementPort.ToString(CultureInfo.InvariantCulture),
            ["RabbitMq__ManagementHttps"] = "true",
            ["RabbitMq__VirtualHost"] = vhost,
            ["RabbitMq__Username"] = RabbitUser,
            ["RabbitMq__Password"] = null,
            ["RabbitMq__Tls__Enabled"] = "true",
            ["RabbitMq__Tls__CaFile"] = rabbit.Tls.CaFile,
            ["RabbitMq__Tls__ClientCertificateFile"] = rabbit.Tls.ClientCertificateFile,
            ["RabbitMq__Tls__ClientKeyFile"] = rabbit.Tls.ClientKeyFile,
            [SecretFiles.DirectoryVariable] = SecretsFolder,
            // tests run side by side: no fixed metrics or health port
            ["Observability__MetricsPort"] = "0",
            ["Observability__HealthPort"] = "0",
        };
    }

    public static string WithoutPassword(NpgsqlConnectionStringBuilder connection) =>
        new NpgsqlConnectionStringBuilder(connection.ConnectionString) { Password = null }.ConnectionString;

    /// <summary>Configuration keys for an in-process host, from <see cref="Environment"/> (passwords given directly).</summary>
    public Dictionary<string, string?> Settings(string vhost, NpgsqlConnectionStringBuilder local, NpgsqlConnectionStringBuilder source)
    {
        var settings = Environment(vhost, local, source)
            .Where(e => e.Value is not null && e.Key.Contains("__", StringComparison.Ordinal))
            .ToDictionary(e => e.Key.Replace("__", ":", StringComparison.Ordinal), e => e.Value);
        settings["ConnectionStrings:Contacts"] = local.ConnectionString;
        settings["ConnectionStrings:Source"] = source.ConnectionString;
        settings["RabbitMq:Password"] = RabbitPassword;
        return settings;
    }

    public async ValueTask DisposeAsync()
    {
        if (Broker is not null)
        {
            await Broker.DisposeAsync();
        }

        if (Postgres is not null)
        {
            await Postgres.DisposeAsync();
        }

        Certificates?.Dispose();
        if (Directory.Exists(SecretsFolder))
        {
            Directory.Delete(SecretsFolder, recursive: true);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class SecureStackCollection : ICollectionFixture<SecureStack>
{
    public const string Name = "secure stack";
}
