using System.Diagnostics;
using Npgsql;

namespace CampaignEvents.Throwaway;

/// <summary>Databases of their own on a server whose login may create them, dropped at the end.</summary>
public static class ThrowawayDatabases
{
    /// <summary>A unique database name that says what it is for: <c>ce_{purpose}_{random}</c>, within PostgreSQL's 63 bytes.</summary>
    public static string Name(string purpose)
    {
        var name = $"ce_{new string([.. purpose.ToLowerInvariant().Where(c => char.IsAsciiLetterOrDigit(c) || c == '_').Take(30)])}_{Guid.NewGuid():N}";
        return name[..Math.Min(name.Length, 50)];
    }

    /// <summary>Creates the empty database <paramref name="name"/> on the server of <paramref name="server"/>; returns its connection settings.</summary>
    public static async Task<NpgsqlConnectionStringBuilder> Create(NpgsqlConnectionStringBuilder server, string name, CancellationToken cancel = default)
    {
        await using var admin = new NpgsqlConnection(server.ConnectionString);
        await admin.OpenAsync(cancel);
        await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", admin);
        await create.ExecuteNonQueryAsync(cancel);
        return new NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = name };
    }

    /// <summary>
    /// Drops the database, ending its sessions. A backend that will not go at once (another role's
    /// session still leaving, autovacuum after a large run) gets tries until <paramref name="patience"/>;
    /// then the refusal is returned, for the caller to report: a database left behind is litter, never a failure.
    /// </summary>
    /// <returns>Null when dropped, else PostgreSQL's last refusal.</returns>
    public static async Task<string?> Drop(NpgsqlConnectionStringBuilder server, string name, TimeSpan patience)
    {
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(server.ConnectionString);
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", admin);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await drop.ExecuteNonQueryAsync();
                return null;
            }
            catch (PostgresException) when (clock.Elapsed < patience)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250));
            }
            catch (PostgresException e)
            {
                return e.MessageText;
            }
        }
    }
}
