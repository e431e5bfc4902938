namespace Brook.Protocol.Tests;

public class ErrorCodeTests
{
    [Theory]
    [InlineData(ErrorCode.UnknownServerError, -1, "UNKNOWN_SERVER_ERROR")]
    [InlineData(ErrorCode.None, 0, "NONE")]
    [InlineData(ErrorCode.OffsetOutOfRange, 1, "OFFSET_OUT_OF_RANGE")]
    [InlineData(ErrorCode.CorruptMessage, 2, "CORRUPT_MESSAGE")]
    [InlineData(ErrorCode.UnknownTopicOrPartition, 3, "UNKNOWN_TOPIC_OR_PARTITION")]
    [InlineData(ErrorCode.NotLeaderOrFollower, 6, "NOT_LEADER_OR_FOLLOWER")]
    [InlineData(ErrorCode.NotCoordinator, 16, "NOT_COORDINATOR")]
    [InlineData(ErrorCode.UnsupportedVersion, 35, "UNSUPPORTED_VERSION")]
    [InlineData(ErrorCode.InvalidRequest, 42, "INVALID_REQUEST")]
    [InlineData(ErrorCode.ProducerFenced, 90, "PRODUCER_FENCED")]
    [InlineData(ErrorCode.UnknownTopicId, 100, "UNKNOWN_TOPIC_ID")]
    [InlineData(ErrorCode.FencedMemberEpoch, 110, "FENCED_MEMBER_EPOCH")]
    [InlineData(ErrorCode.StaleMemberEpoch, 113, "STALE_MEMBER_EPOCH")]
    [InlineData(ErrorCode.TransactionAbortable, 120, "TRANSACTION_ABORTABLE")]
    [InlineData(ErrorCode.ShareSessionLimitReached, 133, "SHARE_SESSION_LIMIT_REACHED")]
    public void Well_known_codes_have_kafkas_numbers_and_names(ErrorCode code, short number, string name)
    {
        Assert.Equal(number, (short)code);
        Assert.Equal(name, ErrorCodes.Name(code));
        Assert.Equal(name, ErrorCodes.Name(number));
    }

    [Fact]
    public void Codes_run_without_gaps_from_minus_one_to_the_newest()
    {
        var numbers = ErrorCodes.All.Select(c => (int)c).ToArray();
        Assert.Equal(Enumerable.Range(-1, numbers.Length), numbers);
        Assert.Equal(Enum.GetValues<ErrorCode>().Length, numbers.Length);
    }

    [Fact]
    public void Every_name_is_the_upper_snake_form_of_the_member_name()
    {
        foreach (var code in Enum.GetValues<ErrorCode>())
        {
            var snake = string.Concat(code.ToString().Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + c : c.ToString())).ToUpperInvariant();
            Assert.Equal(snake, ErrorCodes.Name(code));
            Assert.False(string.IsNullOrWhiteSpace(ErrorCodes.Message(code)));
        }
    }

    [Theory]
    [InlineData(ErrorCode.UnknownTopicOrPartition)]
    [InlineData(ErrorCode.LeaderNotAvailable)]
    [InlineData(ErrorCode.NotLeaderOrFollower)]
    [InlineData(ErrorCode.RequestTimedOut)]
    [InlineData(ErrorCode.CoordinatorLoadInProgress)]
    [InlineData(ErrorCode.NotEnoughReplicas)]
    [InlineData(ErrorCode.NotController)]
    [InlineData(ErrorCode.FencedLeaderEpoch)]
    [InlineData(ErrorCode.UnknownTopicId)]
    public void Transient_errors_are_retriable(ErrorCode code) => Assert.True(ErrorCodes.IsRetriable(code));

    [Theory]
    [InlineData(ErrorCode.UnknownServerError)]
    [InlineData(ErrorCode.None)]
    [InlineData(ErrorCode.OffsetOutOfRange)]
    [InlineData(ErrorCode.TopicAuthorizationFailed)]
    [InlineData(ErrorCode.UnsupportedVersion)]
    [InlineData(ErrorCode.ProducerFenced)]
    [InlineData(ErrorCode.FencedMemberEpoch)]
    public void Permanent_errors_are_not_retriable(ErrorCode code) => Assert.False(ErrorCodes.IsRetriable(code));

    [Fact]
    public void Unknown_codes_read_as_unknown_server_error()
    {
        Assert.False(ErrorCodes.IsKnown(9999));
        Assert.Equal("UNKNOWN_SERVER_ERROR", ErrorCodes.Name(9999));
        Assert.False(ErrorCodes.IsRetriable(9999));
    }
}
