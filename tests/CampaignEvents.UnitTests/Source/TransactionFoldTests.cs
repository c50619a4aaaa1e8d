using System.Text.Json;
using CampaignEvents.Contracts;
using CampaignEvents.Source.Capture;
using CampaignEvents.Source.Configuration;
using CampaignEvents.Source.Mapping;
using Xunit;
using CampaignEvents.Infrastructure.Versions;

namespace CampaignEvents.UnitTests.Source;

public sealed class TransactionFoldTests
{
    static IEnumerable<ContactChanged> Changes(FoldedChanges folded) => folded.Contacts.OfType<ContactChange.Upsert>().Select(c => c.Event);

    static IEnumerable<ContactDeleted> Deletes(FoldedChanges folded) => folded.Contacts.OfType<ContactChange.Delete>().Select(c => c.Event);

    static readonly SourceMapping Mapping = new(new SourceOptions());
    static readonly Guid Campaign = Guid.NewGuid();
    const ulong Commit = 0x1_2345_6789;

    static MappedContact Row(string phone, string metadata = "{}") =>
        Mapping.MapContact(Campaign.ToString(), phone, "row-1", metadata);

    [Fact]
    public void Keeps_only_the_last_change_of_a_key_with_its_position_in_the_version()
    {
        var fold = new TransactionFold(Commit, DateTimeOffset.UnixEpoch);
        fold.Upsert(1, Row("+14155550101", """{"v":1}"""), null);
        fold.Upsert(2, Row("+14155550101", """{"v":2}"""), (Campaign, "+14155550101"));
        var folded = fold.Complete(Commit + 40);

        var change = Assert.Single(Changes(folded));
        Assert.Equal(2, change.Metadata.GetProperty("v").GetInt32());
        Assert.Equal(SourceVersion.ForChange(Commit, 2), change.Version);
        Assert.Empty(Deletes(folded));
        Assert.Equal(Commit + 40, folded.EndLsn);
    }

    [Fact]
    public void When_an_update_changes_the_phone_the_old_key_is_deleted_and_the_new_one_changed()
    {
        var fold = new TransactionFold(Commit, DateTimeOffset.UnixEpoch);
        fold.Upsert(1, Row("(415) 555-0102"), (Campaign, "+14155550101"));
        var folded = fold.Complete(Commit);

        Assert.Equal("+14155550102", Assert.Single(Changes(folded)).PhoneNumber);
        var delete = Assert.Single(Deletes(folded));
        Assert.Equal("+14155550101", delete.PhoneNumber);
        Assert.Equal(SourceVersion.ForChange(Commit, 1), delete.Version);
    }

    [Fact]
    public void An_insert_then_delete_in_one_transaction_is_a_delete()
    {
        var fold = new TransactionFold(Commit, DateTimeOffset.UnixEpoch);
        fold.Upsert(1, Row("+14155550101"), null);
        fold.Delete(2, (Campaign, "+14155550101"));
        var folded = fold.Complete(Commit);

        Assert.Empty(Changes(folded));
        Assert.Equal(SourceVersion.ForChange(Commit, 2), Assert.Single(Deletes(folded)).Version);
    }

    [Fact]
    public void A_row_whose_phone_does_not_normalize_is_rejected_and_its_old_key_deleted()
    {
        var fold = new TransactionFold(Commit, DateTimeOffset.UnixEpoch);
        fold.Upsert(1, Row("not a phone"), (Campaign, "+14155550101"));
        fold.Upsert(2, Row("12"), null);
        var folded = fold.Complete(Commit);

        Assert.Empty(Changes(folded));
        Assert.Single(Deletes(folded));
        Assert.Equal(2, folded.Rejected.Count);
        Assert.All(folded.Rejected, r => Assert.Equal("row-1", r.RowId));
    }

    [Fact]
    public void A_stream_change_always_outranks_the_snapshot_it_follows()
    {
        Assert.True(SourceVersion.ForChange(Commit, 1) > SourceVersion.ForSnapshot(Commit - 1));
        Assert.True(SourceVersion.ForChange(Commit, 1) > SourceVersion.ForSnapshot(Commit));
    }

    [Fact]
    public void Streamed_folded_columns_keep_their_json_types_and_null_stays_null()
    {
        var mapping = new SourceMapping(new SourceOptions { MetadataColumn = "", MetadataColumns = ["first_name", "age", "vip", "tags", "seen"] });
        ColumnType[] types =
        [
            ColumnType.Text,
            new("integer", JsonKind.Number),
            new("boolean", JsonKind.Boolean),
            new("text[]", JsonKind.Array, ColumnType.Text),
            new("timestamp with time zone", JsonKind.TimestampTz),
        ];
        var row = mapping.MapStreamedContact(Campaign.ToString(), "+442079460958", null, ["Zoë", "42", "f", "{a,\"b c\",NULL}", null], types);

        Assert.False(row.Rejected);
        Assert.Equal("""{"first_name":"Zoë","age":42,"vip":false,"tags":["a","b c",null],"seen":null}""", JsonSerializer.Serialize(row.Metadata, new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
    }

    [Fact]
    public void Sql_readers_let_postgresql_fold_the_columns_with_jsonb_build_object()
    {
        var mapping = new SourceMapping(new SourceOptions { MetadataColumn = "", MetadataColumns = ["first_name", "it's"] });

        Assert.Equal("""t."campaign_id"::text, t."phone_number"::text, t."id"::text, jsonb_build_object('first_name', t."first_name", 'it''s', t."it's")::text""", mapping.ContactSelectList("t"));
        Assert.Equal("""coalesce(t."metadata"::jsonb, '{}'::jsonb)""", Mapping.MetadataJsonb("t"));
    }

    [Fact]
    public void More_than_fifty_folded_columns_are_built_in_parts_within_the_argument_limit()
    {
        var mapping = new SourceMapping(new SourceOptions { MetadataColumn = "", MetadataColumns = [.. Enumerable.Range(0, 120).Select(i => $"c{i}")] });

        var sql = mapping.MetadataJsonb("t");

        Assert.Equal(3, sql.Split("jsonb_build_object(").Length - 1);
        Assert.Contains(" || ", sql, StringComparison.Ordinal);
    }

    [Fact]
    public void Metadata_that_is_not_a_json_object_is_rejected()
    {
        Assert.True(Mapping.MapContact(Campaign.ToString(), "+14155550101", null, "[1,2]").Rejected);
        Assert.True(Mapping.MapContact("not-a-uuid", "+14155550101", null, "{}").Rejected);
    }
}
