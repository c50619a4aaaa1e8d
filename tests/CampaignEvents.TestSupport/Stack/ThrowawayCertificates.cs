namespace CampaignEvents.TestSupport.Stack;

/// <summary>
/// A throwaway certificate authority made with openssl for a test's TLS servers: a server
/// certificate for <c>localhost</c> and <c>127.0.0.1</c>, a client certificate, and a second CA that
/// signed neither (the "wrong CA" an operator might configure). PEM files in a temporary folder.
/// </summary>
public sealed class ThrowawayCertificates : IDisposable
{
    ThrowawayCertificates(string folder) => Folder = folder;

    public string Folder { get; }

    /// <summary>The CA that signed the server and client certificates.</summary>
    public string CaFile => Path.Combine(Folder, "ca.pem");

    /// <summary>A CA that signed nothing here.</summary>
    public string OtherCaFile => Path.Combine(Folder, "other-ca.pem");

    public string ServerCertificateFile => Path.Combine(Folder, "server.pem");

    public string ServerKeyFile => Path.Combine(Folder, "server.key");

    public string ClientCertificateFile => Path.Combine(Folder, "client.pem");

    public string ClientKeyFile => Path.Combine(Folder, "client.key");

    public static async Task<ThrowawayCertificates> Create()
    {
        ThrowawayServers.Require(File.Exists("/usr/bin/openssl"), "throwaway certificates need openssl (apt-get install openssl)");
        var folder = Path.Combine(Path.GetTempPath(), $"ce-tls-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        var certificates = new ThrowawayCertificates(folder);
        await Authority(folder, "ca", "CampaignEvents test CA");
        await Authority(folder, "other-ca", "CampaignEvents other test CA");
        await Signed(folder, "server", "localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n");
        await Signed(folder, "client", "campaign-events", "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n");
        return certificates;
    }

    static Task Authority(string folder, string name, string subject) => Openssl(folder,
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", $"/CN={subject}",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        "-keyout", $"{name}.key", "-out", $"{name}.pem");

    static async Task Signed(string folder, string name, string commonName, string extensions)
    {
        await File.WriteAllTextAsync(Path.Combine(folder, $"{name}.ext"), extensions);
        await Openssl(folder, "req", "-newkey", "rsa:2048", "-nodes", "-subj", $"/CN={commonName}", "-keyout", $"{name}.key", "-out", $"{name}.csr");
        await Openssl(folder, "x509", "-req", "-in", $"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-days", "2", "-extfile", $"{name}.ext", "-out", $"{name}.pem");
    }

    static Task Openssl(string folder, params string[] arguments) => ProcessRunner.Run("openssl", arguments, workingDirectory: folder);

    public void Dispose() => Directory.Delete(Folder, recursive: true);
}
