using CampaignEvents.Contracts;
using CampaignEvents.Source.Capture;
using CampaignEvents.Source.Capture.Decoding;
using CampaignEvents.Source.Configuration;
using CampaignEvents.Source.Mapping;
using Microsoft.Extensions.Logging;
using Xunit;
using CampaignEvents.Infrastructure.Versions;

namespace CampaignEvents.UnitTests.Source;

/// <summary>
/// The pgoutput decoding without a server: the messages a slot sends, as the reader hands them over
/// from Npgsql, become the events the adapter publishes for each committed transaction.
/// </summary>
public sealed class PgOutputDecoderTests
{
    const uint Contacts = 16_401;
    const uint Campaigns = 16_402;
    const uint Other = 16_403;
    const ulong Lsn = 0x2_0000_1000;
    const string Phone = "+14155550101";
    const string OtherPhone = "+14155550102";

    // pg_type oids of the columns' types
    const uint TextOid = 25;
    const uint Int4Oid = 23;
    const uint NumericOid = 1700;
    const uint BoolOid = 16;
    const uint TimestampTzOid = 1184;
    const uint TextArrayOid = 1009;
    const uint UuidOid = 2950;
    const uint JsonbOid = 3802;

    static readonly DateTimeOffset CommittedAt = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    static readonly Guid Campaign = Guid.Parse("5b0e6a51-0d89-4a8e-9d0c-3f1f3c1f2a10");

    static readonly StreamRelation ContactsTable = new(Contacts, "public", "contacts",
    [
        new("id", Int4Oid), new("campaign_id", UuidOid), new("phone_number", TextOid), new("metadata", JsonbOid),
    ]);

    static readonly StreamRelation CampaignsTable = new(Campaigns, "public", "campaigns",
    [
        new("id", UuidOid), new("name", TextOid), new("type", TextOid), new("status", TextOid), new("config", JsonbOid),
    ]);

    readonly ListLogger logger = new();
    readonly List<IReadOnlyCollection<uint>> resolved = [];

    PgOutputDecoder Decoder(SourceOptions? options = null) =>
        new(new SourceMapping(options ?? new SourceOptions()), Resolve, logger);

    Task<IReadOnlyDictionary<uint, ColumnType>> Resolve(IReadOnlyCollection<uint> typeIds, CancellationToken cancel)
    {
        resolved.Add(typeIds);
        IReadOnlyDictionary<uint, ColumnType> types = typeIds.Distinct().ToDictionary(id => id, id => id switch
        {
            Int4Oid => new ColumnType("integer", JsonKind.Number),
            NumericOid => new ColumnType("numeric", JsonKind.Number),
            BoolOid => new ColumnType("boolean", JsonKind.Boolean),
            TimestampTzOid => new ColumnType("timestamp with time zone", JsonKind.TimestampTz),
            TextArrayOid => new ColumnType("text[]", JsonKind.Array, ColumnType.Text),
            _ => ColumnType.Text,
        });
        return Task.FromResult(types);
    }

    static TupleValue[] ContactRow(string? phone, string? metadata = "{}", string id = "1", string? campaign = null) =>
        [TupleValue.Of(id), TupleValue.Of(campaign ?? Campaign.ToString()), phone is null ? TupleValue.Null : TupleValue.Of(phone), metadata is null ? TupleValue.Null : TupleValue.Of(metadata)];

    static async Task<PgOutputDecoder> Started(PgOutputDecoder decoder)
    {
        await decoder.Relation(ContactsTable, CancellationToken.None);
        await decoder.Relation(CampaignsTable, CancellationToken.None);
        decoder.Begin(Lsn, CommittedAt);
        return decoder;
    }

    static ContactChanged Changed(ContactChange change) => Assert.IsType<ContactChange.Upsert>(change).Event;

    static string Json(System.Text.Json.JsonElement value) =>
        System.Text.Json.JsonSerializer.Serialize(value, new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    static ContactDeleted Deleted(ContactChange change) => Assert.IsType<ContactChange.Delete>(change).Event;

    [Fact]
    public async Task An_insert_becomes_a_change_versioned_by_the_commit_and_its_position()
    {
        var decoder = await Started(Decoder());
        decoder.Insert(Contacts, ContactRow("(415) 555-0101", """{"tier": "gold"}"""));
        var folded = decoder.Commit(Lsn + 80);

        var change = Changed(Assert.Single(folded.Contacts));
        Assert.Equal((Campaign, Phone), (change.CampaignId, change.PhoneNumber));
        Assert.Equal("gold", change.Metadata.GetProperty("tier").GetString());
        Assert.Equal(SourceVersion.ForChange(Lsn, 1), change.Version);
        Assert.Equal(CommittedAt, change.OccurredAt);
        Assert.Equal(Lsn + 80, folded.EndLsn);
        Assert.Empty(folded.Rejected);
    }

    [Fact]
    public async Task An_update_of_a_full_identity_row_that_keeps_its_key_is_one_change()
    {
        var decoder = await Started(Decoder());
        decoder.Update(Contacts, ContactRow(Phone, """{"v": 1}"""), ContactRow(Phone, """{"v": 2}"""));
        var folded = decoder.Commit(Lsn);

        var change = Changed(Assert.Single(folded.Contacts));
        Assert.Equal(2, change.Metadata.GetProperty("v").GetInt32());
    }

    [Fact]
    public async Task An_update_that_changes_the_phone_deletes_the_old_key_from_the_old_tuple()
    {
        var decoder = await Started(Decoder());
        decoder.Update(Contacts, ContactRow(Phone), ContactRow(OtherPhone));
        var folded = decoder.Commit(Lsn);

        Assert.Equal(2, folded.Contacts.Count);
        Assert.Equal(Phone, Deleted(folded.Contacts.Single(c => c is ContactChange.Delete)).PhoneNumber);
        Assert.Equal(OtherPhone, Changed(folded.Contacts.Single(c => c is ContactChange.Upsert)).PhoneNumber);
        Assert.All(folded.Contacts, c => Assert.Equal(SourceVersion.ForChange(Lsn, 1), c.Version));
    }

    [Fact]
    public async Task A_delete_with_the_full_old_row_becomes_a_delete_of_its_key()
    {
        var decoder = await Started(Decoder());
        decoder.Insert(Contacts, ContactRow(OtherPhone));
        decoder.Delete(Contacts, ContactRow(Phone));
        var folded = decoder.Commit(Lsn);

        var delete = Deleted(folded.Contacts.Single(c => c is ContactChange.Delete));
        Assert.Equal((Campaign, Phone), (delete.CampaignId, delete.PhoneNumber));
        Assert.Equal(SourceVersion.ForChange(Lsn, 2), delete.Version);
    }

    [Fact]
    public async Task Without_the_old_row_a_delete_is_not_published_and_the_missing_replica_identity_is_logged()
    {
        var decoder = await Started(Decoder());
        decoder.Delete(Contacts, null);
        decoder.Update(Contacts, null, ContactRow(OtherPhone));
        var folded = decoder.Commit(Lsn);

        // the update still publishes its new state, at its position after the delete
        var change = Changed(Assert.Single(folded.Contacts));
        Assert.Equal(SourceVersion.ForChange(Lsn, 2), change.Version);
        Assert.Equal(2, logger.Entries.Count(e => e.Level == LogLevel.Error && e.Message.Contains("REPLICA IDENTITY FULL", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task An_unchanged_toasted_value_is_taken_from_the_old_row()
    {
        var decoder = await Started(Decoder());
        var old = ContactRow(Phone, """{"note": "long text kept out of line"}""", id: "7");
        TupleValue[] current = [TupleValue.Of("7"), TupleValue.Of(Campaign.ToString()), TupleValue.Of(Phone), TupleValue.UnchangedToast];
        decoder.Update(Contacts, old, current);
        var folded = decoder.Commit(Lsn);

        Assert.Equal("long text kept out of line", Changed(Assert.Single(folded.Contacts)).Metadata.GetProperty("note").GetString());
    }

    [Fact]
    public async Task A_null_metadata_column_is_an_empty_object_and_a_null_phone_is_rejected()
    {
        var decoder = await Started(Decoder());
        decoder.Insert(Contacts, ContactRow(Phone, metadata: null));
        decoder.Insert(Contacts, ContactRow(phone: null, id: "2"));
        var folded = decoder.Commit(Lsn);

        Assert.Equal("{}", Changed(Assert.Single(folded.Contacts)).Metadata.GetRawText());
        var rejected = Assert.Single(folded.Rejected);
        Assert.Equal("2", rejected.RowId);
        Assert.NotNull(rejected.RejectedBecause);
    }

    [Fact]
    public async Task A_row_that_stops_mapping_is_rejected_and_its_old_key_deleted()
    {
        var decoder = await Started(Decoder());
        decoder.Update(Contacts, ContactRow(Phone), ContactRow("not a phone"));
        var folded = decoder.Commit(Lsn);

        Assert.Equal(Phone, Deleted(Assert.Single(folded.Contacts)).PhoneNumber);
        Assert.Equal("not a phone", Assert.Single(folded.Rejected).RawPhone);
    }

    [Fact]
    public async Task Folded_metadata_columns_keep_their_types_and_nulls_as_the_catalog_gives_them()
    {
        var options = new SourceOptions { MetadataColumn = "", MetadataColumns = ["score", "amount", "vip", "seen", "tags", "note"] };
        var decoder = Decoder(options);
        await decoder.Relation(
            new StreamRelation(Contacts, "public", "contacts",
            [
                new("id", Int4Oid), new("campaign_id", UuidOid), new("phone_number", TextOid),
                new("score", Int4Oid), new("amount", NumericOid), new("vip", BoolOid), new("seen", TimestampTzOid), new("tags", TextArrayOid), new("note", TextOid),
            ]),
            CancellationToken.None);
        decoder.Begin(Lsn, CommittedAt);
        decoder.Insert(Contacts,
        [
            TupleValue.Of("1"), TupleValue.Of(Campaign.ToString()), TupleValue.Of(Phone),
            TupleValue.Of("42"), TupleValue.Of("12.50"), TupleValue.Of("f"), TupleValue.Of("2026-03-01 06:30:00.5+00"), TupleValue.Of("{a,\"b c\",NULL}"), TupleValue.Null,
        ]);
        var folded = decoder.Commit(Lsn);

        Assert.Equal(
            """{"score":42,"amount":12.50,"vip":false,"seen":"2026-03-01T06:30:00.5+00:00","tags":["a","b c",null],"note":null}""",
            Json(Changed(Assert.Single(folded.Contacts)).Metadata));
        // only the folded columns' types are looked up, once per relation message
        Assert.Equal([Int4Oid, NumericOid, BoolOid, TimestampTzOid, TextArrayOid, TextOid], Assert.Single(resolved));
    }

    [Fact]
    public async Task A_new_relation_message_after_a_column_type_change_is_followed()
    {
        var options = new SourceOptions { MetadataColumn = "", MetadataColumns = ["score"] };
        var decoder = Decoder(options);
        StreamRelation Contacts(uint scoreType) => new(PgOutputDecoderTests.Contacts, "public", "contacts",
            [new("id", Int4Oid), new("campaign_id", UuidOid), new("phone_number", TextOid), new("score", scoreType)]);
        TupleValue[] Row(string score) => [TupleValue.Of("1"), TupleValue.Of(Campaign.ToString()), TupleValue.Of(Phone), TupleValue.Of(score)];

        await decoder.Relation(Contacts(TextOid), CancellationToken.None);
        decoder.Begin(Lsn, CommittedAt);
        decoder.Insert(PgOutputDecoderTests.Contacts, Row("42"));
        var before = decoder.Commit(Lsn);
        await decoder.Relation(Contacts(Int4Oid), CancellationToken.None);
        decoder.Begin(Lsn + 100, CommittedAt);
        decoder.Insert(PgOutputDecoderTests.Contacts, Row("42"));
        var after = decoder.Commit(Lsn + 100);

        Assert.Equal("""{"score":"42"}""", Changed(Assert.Single(before.Contacts)).Metadata.GetRawText());
        Assert.Equal("""{"score":42}""", Changed(Assert.Single(after.Contacts)).Metadata.GetRawText());
    }

    [Fact]
    public async Task A_single_json_column_is_not_looked_up_in_the_catalog()
    {
        var decoder = await Started(Decoder());
        decoder.Insert(Contacts, ContactRow(Phone));
        decoder.Commit(Lsn);

        Assert.Empty(resolved);
    }

    [Fact]
    public async Task Rows_of_tables_that_are_not_mapped_are_passed_over_but_keep_their_positions()
    {
        var decoder = await Started(Decoder());
        await decoder.Relation(new StreamRelation(Other, "public", "audit_log", [new("id", Int4Oid), new("what", TextOid)]), CancellationToken.None);
        decoder.Insert(Other, [TupleValue.Of("1"), TupleValue.Of("x")]);
        decoder.Update(Other, null, [TupleValue.Of("1"), TupleValue.Of("y")]);
        decoder.Delete(Other, [TupleValue.Of("1"), TupleValue.Of("y")]);
        decoder.Insert(Contacts, ContactRow(Phone));
        var folded = decoder.Commit(Lsn);

        Assert.Equal(SourceVersion.ForChange(Lsn, 4), Assert.Single(folded.Contacts).Version);
        Assert.Empty(folded.Campaigns);
        // a table without a full replica identity that is not mapped is no concern of the adapter
        Assert.DoesNotContain(logger.Entries, e => e.Level >= LogLevel.Warning);
    }

    [Fact]
    public async Task A_table_of_the_same_name_in_another_schema_is_not_mapped()
    {
        var decoder = await Started(Decoder());
        await decoder.Relation(ContactsTable with { Id = Other, Namespace = "archive" }, CancellationToken.None);
        decoder.Insert(Other, ContactRow(Phone));

        Assert.Empty(decoder.Commit(Lsn).Contacts);
    }

    [Fact]
    public async Task A_campaign_row_becomes_a_campaign_change_and_one_that_does_not_map_is_rejected()
    {
        var decoder = await Started(Decoder());
        var good = Guid.NewGuid();
        decoder.Insert(Campaigns, [TupleValue.Of(good.ToString()), TupleValue.Of("Spring"), TupleValue.Of("sms"), TupleValue.Of("active"), TupleValue.Of("""{"retries": 2}""")]);
        decoder.Update(Campaigns, null, [TupleValue.Of(Guid.NewGuid().ToString()), TupleValue.Of("Bad"), TupleValue.Of("sms"), TupleValue.Of("active"), TupleValue.Of("[1]")]);
        var folded = decoder.Commit(Lsn);

        var campaign = Assert.Single(folded.Campaigns);
        Assert.Equal((good, "Spring", "sms", "active"), (campaign.Id, campaign.Name, campaign.Type, campaign.Status));
        Assert.Equal(2, campaign.Config.GetProperty("retries").GetInt32());
        Assert.Equal(SourceVersion.ForChange(Lsn, 1), campaign.Version);
        Assert.Contains("not an object", Assert.Single(folded.RejectedCampaigns).RejectedBecause, StringComparison.Ordinal);
        Assert.Empty(folded.Contacts);
    }

    [Fact]
    public async Task A_truncate_publishes_nothing_and_says_that_reconciliation_repairs_it()
    {
        var decoder = await Started(Decoder());
        decoder.Truncate();
        var folded = decoder.Commit(Lsn);

        Assert.Empty(folded.Contacts);
        Assert.Empty(folded.Campaigns);
        Assert.Contains(logger.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("TRUNCATE", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_heartbeat_between_transactions_is_a_position_to_confirm_and_inside_one_is_ignored()
    {
        var decoder = await Started(Decoder());
        Assert.Null(decoder.Heartbeat(Lsn + 10));
        decoder.Commit(Lsn + 20);

        var marker = decoder.Heartbeat(Lsn + 30);

        Assert.NotNull(marker);
        Assert.Equal(Lsn + 30, marker.EndLsn);
        Assert.Empty(marker.Contacts);
        Assert.Empty(marker.Campaigns);
    }

    [Fact]
    public async Task A_change_outside_a_transaction_fails_the_session()
    {
        var decoder = Decoder();
        await decoder.Relation(ContactsTable, CancellationToken.None);

        Assert.Throws<InvalidOperationException>(() => decoder.Insert(Contacts, ContactRow(Phone)));
    }

    [Fact]
    public async Task Each_transaction_starts_its_positions_again()
    {
        var decoder = await Started(Decoder());
        decoder.Insert(Contacts, ContactRow(Phone));
        decoder.Insert(Contacts, ContactRow(OtherPhone));
        decoder.Commit(Lsn);
        decoder.Begin(Lsn + 100, CommittedAt);
        decoder.Insert(Contacts, ContactRow(Phone));

        Assert.Equal(SourceVersion.ForChange(Lsn + 100, 1), Assert.Single(decoder.Commit(Lsn + 100).Contacts).Version);
    }

    sealed class ListLogger : ILogger
    {
        public List<(LogLevel Level, string Message)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Add((logLevel, formatter(state, exception)));
    }
}
