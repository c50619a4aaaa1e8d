using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CampaignEvents.Infrastructure.Configuration;
using MassTransit;
using RabbitMQ.Client;

namespace CampaignEvents.Infrastructure.Messaging;

/// <summary>
/// TLS towards the broker: AMQP (<c>RabbitMq:Tls:*</c>) and the management API
/// (<c>RabbitMq:ManagementHttps</c>, <c>RabbitMq:ManagementCaFile</c>). The broker's certificate is
/// always verified, against the configured CA file instead of the system's store when one is given;
/// a rejected certificate is explained by <see cref="CertificateCheck.Failure"/>, naming the setting
/// to fix (docs/adr/0016).
/// </summary>
internal sealed class BrokerTls
{
    const SslProtocols Protocols = SslProtocols.Tls12 | SslProtocols.Tls13;

    readonly RabbitMqOptions options;
    readonly X509Certificate2? clientCertificate;

    BrokerTls(RabbitMqOptions options)
    {
        this.options = options;
        Check = new CertificateCheck(Authorities(options.Tls.CaFile, "RabbitMq:Tls:CaFile"), "RabbitMq:Tls:CaFile", options.Tls.CaFile, "RabbitMq:Tls:ServerName");
        clientCertificate = ClientCertificate(options.Tls);
    }

    /// <summary>The check of the broker's AMQP certificate; after a refused handshake it says why.</summary>
    public CertificateCheck Check { get; }

    /// <summary>The TLS settings of the broker, or null when <c>RabbitMq:Tls:Enabled</c> is off; throws <see cref="SettingsException"/> naming a file setting that cannot be read.</summary>
    public static BrokerTls? For(RabbitMqOptions options) => options.Tls.Enabled ? new BrokerTls(options) : null;

    /// <summary>RabbitMQ.Client's TLS option for one node.</summary>
    public SslOption Amqp(string host)
    {
        var ssl = new SslOption(ServerName(host), enabled: true)
        {
            Version = Protocols,
            CertificateValidationCallback = Check.Validate,
        };
        if (clientCertificate is not null)
        {
            ssl.Certs = new X509CertificateCollection { clientCertificate };
        }

        return ssl;
    }

    /// <summary>MassTransit's TLS settings for the bus.</summary>
    public void Configure(IRabbitMqSslConfigurator ssl, string host)
    {
        ssl.Protocol = Protocols;
        ssl.ServerName = ServerName(host);
        ssl.CertificateValidationCallback = Check.Validate;
        if (clientCertificate is not null)
        {
            ssl.Certificate = clientCertificate;
        }
    }

    string ServerName(string host) => string.IsNullOrWhiteSpace(options.Tls.ServerName) ? host : options.Tls.ServerName;

    /// <summary>
    /// The handler of a management API client: with <c>RabbitMq:ManagementHttps</c>, verifies the
    /// listener's certificate against <c>RabbitMq:ManagementCaFile</c> (else <c>RabbitMq:Tls:CaFile</c>).
    /// </summary>
    public static (HttpMessageHandler Handler, CertificateCheck? Check) ManagementHandler(RabbitMqOptions options)
    {
        var handler = new HttpClientHandler();
        if (!options.ManagementHttps)
        {
            return (handler, null);
        }

        var (file, setting) = !string.IsNullOrWhiteSpace(options.ManagementCaFile)
            ? (options.ManagementCaFile, "RabbitMq:ManagementCaFile")
            : (options.Tls.CaFile, string.IsNullOrWhiteSpace(options.Tls.CaFile) ? "RabbitMq:ManagementCaFile" : "RabbitMq:Tls:CaFile");
        var check = new CertificateCheck(Authorities(file, setting), setting, file, "RabbitMq:ManagementHosts");
        handler.ServerCertificateCustomValidationCallback = (message, certificate, chain, errors) => check.Validate(message, certificate, chain, errors);
        handler.SslProtocols = Protocols;
        return (handler, check);
    }

    static X509Certificate2Collection? Authorities(string? file, string setting)
    {
        if (string.IsNullOrWhiteSpace(file))
        {
            return null;
        }

        try
        {
            var authorities = new X509Certificate2Collection();
            authorities.ImportFromPemFile(file);
            return authorities.Count > 0
                ? authorities
                : throw new SettingsException($"setting {setting}: '{file}' holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new SettingsException($"setting {setting}: cannot read the CA file '{file}': {e.Message}", e);
        }
    }

    static X509Certificate2? ClientCertificate(RabbitMqTlsOptions tls)
    {
        if (string.IsNullOrWhiteSpace(tls.ClientCertificateFile))
        {
            return null;
        }

        try
        {
            if (string.IsNullOrWhiteSpace(tls.ClientKeyFile))
            {
                return X509CertificateLoader.LoadPkcs12FromFile(tls.ClientCertificateFile, tls.ClientCertificatePassword);
            }

            // SslStream presents a client certificate more reliably from PKCS#12 than from a PEM key pair
            using var pem = X509Certificate2.CreateFromPemFile(tls.ClientCertificateFile, tls.ClientKeyFile);
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            // the message of a wrong PKCS#12 password names no password
            throw new SettingsException(
                $"setting RabbitMq:Tls:ClientCertificateFile: cannot load the client certificate '{tls.ClientCertificateFile}'{(string.IsNullOrWhiteSpace(tls.ClientKeyFile) ? " (PKCS#12, password RabbitMq:Tls:ClientCertificatePassword)" : $" with the key RabbitMq:Tls:ClientKeyFile '{tls.ClientKeyFile}'")}: {e.Message}", e);
        }
    }
}

/// <summary>
/// Verifies a server's certificate: the name (the TLS stack's own check) and the chain, against
/// the given CAs only when there are some, else the system's trust store. Keeps the reason of the
/// last refusal in words an operator acts on.
/// </summary>
internal sealed class CertificateCheck(X509Certificate2Collection? authorities, string caSetting, string? caFile, string nameSetting)
{
    volatile string? failure;

    /// <summary>Why the last certificate was refused (names the setting to fix), or null.</summary>
    public string? Failure => failure;

    public bool Validate(object? sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            failure = "the server sent no TLS certificate";
            return false;
        }

        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            failure = $"the server's TLS certificate ({certificate.Subject}) does not carry the name connected to: connect by a name it carries, or set {nameSetting}";
            return false;
        }

        if (authorities is null)
        {
            if (errors == SslPolicyErrors.None)
            {
                return true;
            }

            failure = $"the server's TLS certificate ({certificate.Subject}, issued by {certificate.Issuer}) is not trusted by this machine's CAs ({Statuses(chain)}): set {caSetting} to the PEM file of the CA that signed it";
            return false;
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(authorities);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            // intermediates the server sent
            foreach (var element in chain.ChainElements.Skip(1))
            {
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        if (custom.Build(leaf))
        {
            failure = null;
            return true;
        }

        failure = $"the server's TLS certificate ({certificate.Subject}, issued by {certificate.Issuer}) is not signed by a CA of {caSetting} ({caFile}): {Statuses(custom)}";
        return false;
    }

    static string Statuses(X509Chain? chain) =>
        chain is null || chain.ChainStatus.Length == 0
            ? "no chain"
            : string.Join(", ", chain.ChainStatus.Select(s => s.Status.ToString()).Distinct());
}
