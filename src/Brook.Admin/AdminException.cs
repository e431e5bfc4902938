using Confluent.Kafka;

namespace Brook.Admin;

/// <summary>What kind of failure an admin operation met; callers map it to exit codes or HTTP statuses.</summary>
public enum AdminErrorKind
{
    /// <summary>Anything not classified below.</summary>
    Failed,

    /// <summary>The request was malformed or a value was rejected (invalid config, partition count, offset...).</summary>
    Invalid,

    /// <summary>A topic, group, partition or other named resource does not exist.</summary>
    NotFound,

    /// <summary>The resource exists already, or its state forbids the operation (a group with active members).</summary>
    Conflict,

    /// <summary>The cluster does not implement the API (or the feature is disabled there).</summary>
    Unsupported,

    /// <summary>No broker answered in time.</summary>
    Unreachable,

    /// <summary>Authentication failed or the principal lacks the permission.</summary>
    NotAuthorized,
}

/// <summary>An admin operation failed; <see cref="Kind"/> says how, <see cref="Exception.Message"/> is one line for a person.</summary>
public sealed class AdminException : Exception
{
    public AdminException(AdminErrorKind kind, string message, Exception? inner = null) : base(message, inner) => Kind = kind;

    public AdminErrorKind Kind { get; }

    /// <summary>The Kafka error code behind it, when there is one.</summary>
    public ErrorCode? Code { get; init; }

    public static AdminException NotFound(string message) => new(AdminErrorKind.NotFound, message);

    public static AdminException Invalid(string message) => new(AdminErrorKind.Invalid, message);

    public static AdminException Conflict(string message) => new(AdminErrorKind.Conflict, message);

    internal static AdminException From(Error error, string? context = null, Exception? inner = null)
    {
        var reason = string.IsNullOrWhiteSpace(error.Reason) ? error.Code.ToString() : error.Reason.Trim();
        if (error.Code is ErrorCode.Local_UnsupportedFeature or ErrorCode.UnsupportedVersion)
            reason = $"the cluster does not support this operation ({reason})";
        var message = context is null ? reason : $"{context}: {reason}";
        return new AdminException(Classify(error.Code), message, inner) { Code = error.Code };
    }

    internal static AdminErrorKind Classify(ErrorCode code) => code switch
    {
        ErrorCode.UnknownTopicOrPart or ErrorCode.Local_UnknownTopic or ErrorCode.Local_UnknownPartition
            or ErrorCode.UnknownTopicId or ErrorCode.GroupIdNotFound or ErrorCode.ResourceNotFound
            or ErrorCode.Local_UnknownGroup => AdminErrorKind.NotFound,
        ErrorCode.TopicAlreadyExists or ErrorCode.NonEmptyGroup or ErrorCode.DuplicateResource or ErrorCode.GroupSubscribedToTopic or ErrorCode.RebalanceInProgress
            or ErrorCode.UnknownMemberId or ErrorCode.Local_Conflict => AdminErrorKind.Conflict,
        ErrorCode.InvalidConfig or ErrorCode.InvalidPartitions or ErrorCode.InvalidReplicationFactor
            or ErrorCode.InvalidReplicaAssignment or ErrorCode.InvalidRequest or ErrorCode.PolicyViolation
            or ErrorCode.TopicException or ErrorCode.InvalidTimestamp or ErrorCode.Local_InvalidArg
            or ErrorCode.OffsetOutOfRange or ErrorCode.InvalidCommitOffsetSize or ErrorCode.UnsupportedSaslMechanism
            or ErrorCode.Local_BadMsg or ErrorCode.MsgSizeTooLarge or ErrorCode.InvalidGroupId or ErrorCode.UnacceptableCredential
            or ErrorCode.InvalidPrincipalType => AdminErrorKind.Invalid,
        ErrorCode.UnsupportedVersion or ErrorCode.Local_UnsupportedFeature or ErrorCode.SecurityDisabled
            or ErrorCode.Local_NotImplemented => AdminErrorKind.Unsupported,
        ErrorCode.TopicAuthorizationFailed or ErrorCode.GroupAuthorizationFailed or ErrorCode.ClusterAuthorizationFailed
            or ErrorCode.TransactionalIdAuthorizationFailed or ErrorCode.SaslAuthenticationFailed
            or ErrorCode.Local_Authentication or ErrorCode.DelegationTokenAuthorizationFailed => AdminErrorKind.NotAuthorized,
        ErrorCode.Local_TimedOut or ErrorCode.Local_Transport or ErrorCode.Local_AllBrokersDown or ErrorCode.RequestTimedOut
            or ErrorCode.Local_Resolve or ErrorCode.NetworkException or ErrorCode.BrokerNotAvailable
            or ErrorCode.Local_TimedOutQueue or ErrorCode.GroupCoordinatorNotAvailable
            or ErrorCode.LeaderNotAvailable => AdminErrorKind.Unreachable,
        _ => AdminErrorKind.Failed,
    };
}
