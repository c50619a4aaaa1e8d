using System.Collections;
using CampaignEvents.Infrastructure.Configuration;
using Xunit;

namespace CampaignEvents.UnitTests.Configuration;

/// <summary>Section__Key_FILE variables (docs/adr/0016): the file's content is the setting, its trailing newline is not.</summary>
public sealed class SecretFilesTests
{
    [Fact]
    public void A_FILE_variable_sets_the_setting_to_the_file_content_without_its_newline()
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, "s3cret\n");
        try
        {
            var settings = SecretFiles.FromFileVariables(new Hashtable
            {
                ["RabbitMq__Password_FILE"] = file,
                ["RabbitMq__Tls__ClientCertificatePassword_FILE"] = file,
                ["POSTGRES_PASSWORD_FILE"] = "/not/ours",
                ["RabbitMq__Password"] = "plain",
            });

            Assert.Equal("s3cret", settings["RabbitMq:Password"]);
            Assert.Equal("s3cret", settings["RabbitMq:Tls:ClientCertificatePassword"]);
            Assert.Equal(2, settings.Count);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void A_FILE_variable_naming_no_file_is_named_in_one_line()
    {
        var e = Assert.Throws<SettingsException>(() => SecretFiles.FromFileVariables(new Hashtable { ["DatabasePasswords__Contacts_FILE"] = "/nonexistent/pw" }));

        Assert.StartsWith("setting DatabasePasswords:Contacts: cannot read the file of DatabasePasswords__Contacts_FILE ('/nonexistent/pw')", e.Message, StringComparison.Ordinal);
    }
}
