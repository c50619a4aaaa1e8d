using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using CampaignEvents.Infrastructure.Configuration;

namespace CampaignEvents.TestSupport.Stack;

/// <summary>
/// A RabbitMQ node of a test's own (Debian's rabbitmq-server run as the rabbitmq user, state in a
/// temporary folder, loopback only), so a test may stop and restart a broker without touching the
/// shared one. Needs root (runuser) and the rabbitmq-server package, which infra/up.sh installs:
/// skipped with the reason otherwise, and a failure under CI=true.
/// Starting takes 15–20 s; the node keeps its state (durable queues and their messages) across a restart.
/// No guest: the node is born with an administrator of its own (<see cref="Rabbit"/>, a password
/// generated per node) and the role users of infra/compose/rabbitmq-definitions.json with their
/// permissions on vhost "/" (<see cref="Identities.As(RabbitMqOptions, string)"/>), from a
/// definitions file it loads at boot.
/// With <see cref="ThrowawayCertificates"/> it also listens for AMQP over TLS on <see cref="TlsPort"/>
/// (asking every client for a certificate signed by the CA) and serves the management API over
/// HTTPS on <see cref="ManagementPort"/>.
/// </summary>
public sealed class ThrowawayRabbitMq : IAsyncDisposable
{
    const string Bin = "/usr/lib/rabbitmq/bin";
    static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(120);

    readonly string folder;
    readonly Dictionary<string, string> environment;
    Process? server;

    ThrowawayRabbitMq(string folder, int port, int distributionPort)
    {
        this.folder = folder;
        Port = port;
        var node = $"ce-test-{Path.GetFileName(folder)[^8..]}@localhost";
        environment = new Dictionary<string, string>
        {
            ["RABBITMQ_NODENAME"] = node,
            ["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1",
            ["RABBITMQ_NODE_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RABBITMQ_DIST_PORT"] = distributionPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RABBITMQ_MNESIA_BASE"] = $"{folder}/mnesia",
            ["RABBITMQ_LOG_BASE"] = $"{folder}/log",
            ["RABBITMQ_PID_FILE"] = $"{folder}/rabbitmq.pid",
            ["RABBITMQ_ENABLED_PLUGINS_FILE"] = $"{folder}/enabled_plugins",
            ["RABBITMQ_CONFIG_FILE"] = $"{folder}/rabbitmq",
            ["ERL_EPMD_ADDRESS"] = "127.0.0.1",
            ["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] = "-kernel inet_dist_use_interface {127,0,0,1}",
            ["HOME"] = "/var/lib/rabbitmq",
        };
    }

    public int Port { get; }

    /// <summary>The node's administrator (generated per node; the harness's: vhosts, queues a test reads).</summary>
    public string AdminUser { get; } = $"ce-admin-{Guid.NewGuid():N}"[..17];

    string AdminPassword { get; } = Guid.NewGuid().ToString("N");

    /// <summary>The rabbitmq_prometheus endpoint's port (<c>http://127.0.0.1:{port}/metrics</c>), when started with it.</summary>
    public int? PrometheusPort { get; private set; }

    /// <summary>AMQP over TLS (only when started with certificates).</summary>
    public int TlsPort { get; private set; }

    /// <summary>The management API over HTTPS (only when started with certificates).</summary>
    public int ManagementPort { get; private set; }

    /// <summary>The broker's address as its administrator, on vhost "/" (a role's: <c>Identities.As(broker.Rabbit, user)</c>).</summary>
    public RabbitMqOptions Rabbit => new() { Host = "127.0.0.1", Port = Port, VirtualHost = "/", Username = AdminUser, Password = AdminPassword };

    /// <param name="prometheus">Also enable rabbitmq_prometheus on loopback, as infra/lib.sh does.</param>
    /// <param name="certificates">Also listen for AMQP over TLS and serve the management API over HTTPS.</param>
    public static async Task<ThrowawayRabbitMq> Start(bool prometheus = false, ThrowawayCertificates? certificates = null)
    {
        ThrowawayServers.Require(File.Exists($"{Bin}/rabbitmq-server") && Environment.UserName == "root", "a throwaway RabbitMQ needs root and rabbitmq-server (infra/up.sh installs it)");

        var folder = Path.Combine(Path.GetTempPath(), $"ce-rabbitmq-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        var broker = new ThrowawayRabbitMq(folder, ThrowawayServers.FreePort(), ThrowawayServers.FreePort());
        var config = $"listeners.tcp.default = 127.0.0.1:{broker.Port}\nlog.console = false\n"
            // its own administrator instead of guest, and the role users, from the first boot on
            + $"default_user = {broker.AdminUser}\ndefault_pass = {broker.AdminPassword}\ndefault_user_tags.administrator = true\n"
            + $"load_definitions = {folder}/definitions.json\n";
        await File.WriteAllTextAsync($"{folder}/definitions.json", broker.Definitions());
        if (prometheus)
        {
            broker.PrometheusPort = ThrowawayServers.FreePort();
            config += $"prometheus.tcp.ip = 127.0.0.1\nprometheus.tcp.port = {broker.PrometheusPort}\n";
        }

        if (certificates is not null)
        {
            broker.TlsPort = ThrowawayServers.FreePort();
            broker.ManagementPort = ThrowawayServers.FreePort();
            Directory.CreateDirectory($"{folder}/tls");
            foreach (var file in new[] { certificates.CaFile, certificates.ServerCertificateFile, certificates.ServerKeyFile })
            {
                File.Copy(file, $"{folder}/tls/{Path.GetFileName(file)}");
            }

            var files = $"cacertfile = {folder}/tls/ca.pem\n{{0}}.certfile = {folder}/tls/server.pem\n{{0}}.keyfile = {folder}/tls/server.key\n";
            config += $"""
                listeners.ssl.default = 127.0.0.1:{broker.TlsPort}
                ssl_options.{string.Format(System.Globalization.CultureInfo.InvariantCulture, files, "ssl_options")}ssl_options.verify = verify_peer
                ssl_options.fail_if_no_peer_cert = true
                management.tcp.port = {ThrowawayServers.FreePort()}
                management.tcp.ip = 127.0.0.1
                management.ssl.port = {broker.ManagementPort}
                management.ssl.ip = 127.0.0.1
                management.ssl.{string.Format(System.Globalization.CultureInfo.InvariantCulture, files, "management.ssl")}
                """;
        }

        await File.WriteAllTextAsync($"{folder}/rabbitmq.conf", config);
        var plugins = new[] { prometheus ? "rabbitmq_prometheus" : null, certificates is null ? null : "rabbitmq_management" }.OfType<string>();
        await File.WriteAllTextAsync($"{folder}/enabled_plugins", $"[{string.Join(',', plugins)}].\n");
        await ProcessRunner.Run("chown", ["-R", "rabbitmq:rabbitmq", folder]);
        await broker.StartServer();
        if (certificates is not null)
        {
            await Eventually.Until(() => Task.FromResult(Answers(broker.ManagementPort)), StartDeadline, $"the throwaway RabbitMQ's management API on port {broker.ManagementPort} accepts connections (logs in {folder}/log)");
        }

        return broker;
    }

    /// <summary>The administrator and the role users with their permissions on vhost "/", as a definitions file (passwords as salted SHA-256 hashes).</summary>
    string Definitions()
    {
        static string Hash(string password)
        {
            var salt = System.Security.Cryptography.RandomNumberGenerator.GetBytes(4);
            return Convert.ToBase64String([.. salt, .. System.Security.Cryptography.SHA256.HashData([.. salt, .. System.Text.Encoding.UTF8.GetBytes(password)])]);
        }

        object User(string name, string password, string tags) =>
            new Dictionary<string, object> { ["name"] = name, ["password_hash"] = Hash(password), ["hashing_algorithm"] = "rabbit_password_hashing_sha256", ["tags"] = tags };
        object Permission(string user, string configure, string write, string read) =>
            new Dictionary<string, object> { ["user"] = user, ["vhost"] = "/", ["configure"] = configure, ["write"] = write, ["read"] = read };

        return System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["users"] = Identities.BrokerUsers.Select(u => User(u.Name, Identities.Password(u.Name), string.Join(',', u.Tags))).Prepend(User(AdminUser, AdminPassword, "administrator")).ToArray(),
            ["vhosts"] = new[] { new Dictionary<string, object> { ["name"] = "/" } },
            ["permissions"] = Identities.BrokerUsers.Select(u => Permission(u.Name, u.Configure, u.Write, u.Read)).Prepend(Permission(AdminUser, ".*", ".*", ".*")).ToArray(),
        });
    }

    /// <summary>Starts the node (again) and waits until it accepts AMQP connections.</summary>
    public async Task StartServer()
    {
        var start = new ProcessStartInfo("runuser", ["-u", "rabbitmq", "-p", "--", $"{Bin}/rabbitmq-server"])
        {
            WorkingDirectory = "/var/lib/rabbitmq",
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        server = Process.Start(start)!;
        server.OutputDataReceived += (_, _) => { };
        server.ErrorDataReceived += (_, _) => { };
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        await Eventually.Until(() => Task.FromResult(Answers()), StartDeadline, $"the throwaway RabbitMQ on port {Port} accepts connections (logs in {folder}/log)");
    }

    /// <summary>Stops the node the way an operator does (rabbitmqctl stop) and waits until it is gone.</summary>
    public async Task StopServer()
    {
        await ProcessRunner.Run("runuser", ["-u", "rabbitmq", "-p", "--", $"{Bin}/rabbitmqctl", "-q", "stop", $"{folder}/rabbitmq.pid"], environment, "/var/lib/rabbitmq");
        if (server is not null)
        {
            await server.WaitForExitAsync();
            server.Dispose();
            server = null;
        }
    }

    /// <summary>Runs <c>rabbitmqctl</c> against this node (e.g. <c>set_vm_memory_high_watermark 0.0001</c> to raise a memory alarm).</summary>
    public Task Control(params string[] arguments) =>
        ProcessRunner.Run("runuser", ["-u", "rabbitmq", "-p", "--", $"{Bin}/rabbitmqctl", "-q", .. arguments], environment, "/var/lib/rabbitmq");

    bool Answers() => Answers(Port);

    static bool Answers(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (server is not null)
        {
            try
            {
                await StopServer();
            }
            catch (InvalidOperationException)
            {
                server.Kill(entireProcessTree: true);
                await server.WaitForExitAsync();
            }
        }

        Directory.Delete(folder, recursive: true);
    }
}
