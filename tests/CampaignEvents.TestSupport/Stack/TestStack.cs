using CampaignEvents.Infrastructure.Configuration;
using Npgsql;
using Testcontainers.PostgreSql;
using Testcontainers.RabbitMq;
using Xunit;

namespace CampaignEvents.TestSupport.Stack;

/// <summary>
/// The PostgreSQL and RabbitMQ servers the integration tests use, one pair per test run.
/// Settings come from the environment (the variables of infra/env.sh). When none are given and
/// a Docker engine answers, Testcontainers starts the servers. When neither is possible the tests
/// fail under CI=true and are skipped, with the reason, otherwise.
/// </summary>
public sealed class TestStack
{
    static readonly SemaphoreSlim Gate = new(1, 1);
    static TestStack? current;
    static string? unavailable;

    TestStack(NpgsqlConnectionStringBuilder postgres, RabbitMqOptions rabbit)
    {
        Postgres = postgres;
        Rabbit = rabbit;
    }

    /// <summary>A login that may create databases (the stack's own user).</summary>
    public NpgsqlConnectionStringBuilder Postgres { get; }

    /// <summary>A broker user that may create vhosts (tagged administrator).</summary>
    public RabbitMqOptions Rabbit { get; }

    public static async Task<TestStack> Get()
    {
        await Gate.WaitAsync();
        try
        {
            if (current is null && unavailable is null)
            {
                current = FromEnvironment() ?? await FromContainers();
            }
        }
        finally
        {
            Gate.Release();
        }

        if (current is not null)
        {
            return current;
        }

        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"CI=true but no test servers: {unavailable}");
        }

        Assert.Skip($"no PostgreSQL/RabbitMQ for integration tests: {unavailable}. Run `bash infra/test.sh`, or `bash infra/up.sh && source infra/env.sh` before `dotnet test`.");
        throw new InvalidOperationException("unreachable");
    }

    static TestStack? FromEnvironment()
    {
        var contacts = Environment.GetEnvironmentVariable("ConnectionStrings__Contacts");
        if (string.IsNullOrWhiteSpace(contacts))
        {
            return null;
        }

        var rabbit = new RabbitMqOptions
        {
            Host = Environment.GetEnvironmentVariable("RabbitMq__Host") ?? "127.0.0.1",
            Port = int.Parse(Environment.GetEnvironmentVariable("RabbitMq__Port") ?? "5672", System.Globalization.CultureInfo.InvariantCulture),
            ManagementPort = int.Parse(Environment.GetEnvironmentVariable("RabbitMq__ManagementPort") ?? "15672", System.Globalization.CultureInfo.InvariantCulture),
            VirtualHost = Environment.GetEnvironmentVariable("RabbitMq__VirtualHost") ?? "campaign-events",
            Username = Environment.GetEnvironmentVariable("RabbitMq__Username") ?? "campaign-events",
            Password = Environment.GetEnvironmentVariable("RabbitMq__Password") ?? "",
        };
        return new TestStack(new NpgsqlConnectionStringBuilder(contacts), rabbit);
    }

    static async Task<TestStack?> FromContainers()
    {
        if (!File.Exists("/var/run/docker.sock") && Environment.GetEnvironmentVariable("DOCKER_HOST") is null)
        {
            unavailable = "ConnectionStrings__Contacts is not set and no Docker engine answers";
            return null;
        }

        try
        {
            var postgres = new PostgreSqlBuilder("postgres:15.15")
                .WithCommand("-c", "wal_level=logical", "-c", "max_replication_slots=200", "-c", "max_wal_senders=200", "-c", "max_connections=400")
                .Build();
            var rabbit = new RabbitMqBuilder("rabbitmq:4.1-management").Build();
            await Task.WhenAll(postgres.StartAsync(), rabbit.StartAsync());
            var broker = new Uri(rabbit.GetConnectionString());
            var credentials = broker.UserInfo.Split(':');
            return new TestStack(
                new NpgsqlConnectionStringBuilder(postgres.GetConnectionString()),
                new RabbitMqOptions
                {
                    Host = broker.Host,
                    Port = broker.Port,
                    ManagementPort = rabbit.GetMappedPublicPort(15672),
                    VirtualHost = "/",
                    Username = Uri.UnescapeDataString(credentials[0]),
                    Password = Uri.UnescapeDataString(credentials[1]),
                });
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            unavailable = $"ConnectionStrings__Contacts is not set and Testcontainers could not start servers ({e.Message})";
            return null;
        }
    }
}
