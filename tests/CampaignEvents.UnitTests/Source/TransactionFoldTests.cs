using System.Text.Json;
using CampaignEvents.Contracts;
using CampaignEvents.Source;
using CampaignEvents.Source.Capture;
using CampaignEvents.Source.Configuration;
using CampaignEvents.Source.Mapping;
using Xunit;

namespace CampaignEvents.UnitTests.Source;

public sealed class TransactionFoldTests
{
    static readonly SourceMapping Mapping = new(new SourceOptions());
    static readonly Guid Campaign = Guid.NewGuid();
    const ulong Commit = 0x1_2345_6789;

    static MappedContact Row(string phone, string metadata = "{}") =>
        Mapping.MapContact(Campaign.ToString(), phone, "row-1", [metadata]);

    [Fact]
    public void Keeps_only_the_last_change_of_a_key_with_its_position_in_the_version()
    {
        var fold = new TransactionFold(Commit, DateTimeOffset.UnixEpoch);
        fold.Upsert(1, Row("+14155550101", """{"v":1}"""), null);
        fold.Upsert(2, Row("+14155550101", """{"v":2}"""), (Campaign, "+14155550101"));
        var folded = fold.Complete(Commit + 40);

        var change = Assert.Single(folded.Changes);
        Assert.Equal(2, change.Metadata.GetProperty("v").GetInt32());
        Assert.Equal(SourceVersion.ForChange(Commit, 2), change.Version);
        Assert.Empty(folded.Deletes);
        Assert.Equal(Commit + 40, folded.EndLsn);
    }

    [Fact]
    public void When_an_update_changes_the_phone_the_old_key_is_deleted_and_the_new_one_changed()
    {
        var fold = new TransactionFold(Commit, DateTimeOffset.UnixEpoch);
        fold.Upsert(1, Row("(415) 555-0102"), (Campaign, "+14155550101"));
        var folded = fold.Complete(Commit);

        Assert.Equal("+14155550102", Assert.Single(folded.Changes).PhoneNumber);
        var delete = Assert.Single(folded.Deletes);
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

        Assert.Empty(folded.Changes);
        Assert.Equal(SourceVersion.ForChange(Commit, 2), Assert.Single(folded.Deletes).Version);
    }

    [Fact]
    public void A_row_whose_phone_does_not_normalize_is_rejected_and_its_old_key_deleted()
    {
        var fold = new TransactionFold(Commit, DateTimeOffset.UnixEpoch);
        fold.Upsert(1, Row("not a phone"), (Campaign, "+14155550101"));
        fold.Upsert(2, Row("12"), null);
        var folded = fold.Complete(Commit);

        Assert.Empty(folded.Changes);
        Assert.Single(folded.Deletes);
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
    public void Folded_columns_become_string_members_of_the_metadata()
    {
        var mapping = new SourceMapping(new SourceOptions { MetadataColumn = "", MetadataColumns = ["first_name", "age"] });
        var row = mapping.MapContact(Campaign.ToString(), "+442079460958", null, ["Zoë", null]);

        Assert.False(row.Rejected);
        Assert.Equal("Zoë", row.Metadata.GetProperty("first_name").GetString());
        Assert.Equal(JsonValueKind.Null, row.Metadata.GetProperty("age").ValueKind);
        Assert.Contains("\"first_name\"::text", mapping.ContactSelectList, StringComparison.Ordinal);
    }

    [Fact]
    public void Metadata_that_is_not_a_json_object_is_rejected()
    {
        Assert.True(Mapping.MapContact(Campaign.ToString(), "+14155550101", null, ["[1,2]"]).Rejected);
        Assert.True(Mapping.MapContact("not-a-uuid", "+14155550101", null, ["{}"]).Rejected);
    }
}
