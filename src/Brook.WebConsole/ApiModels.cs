using Brook.Admin;

namespace Brook.WebConsole;

// The JSON shapes of the console's API (camelCase on the wire). Bytes travel as base64; times as ISO-8601.

public sealed record ApiError(string Error, string Kind);

public sealed record BrokerView(int Id, string Host, int Port, string? Rack, bool IsController, string? Listeners, string? AdvertisedListeners);

public sealed record Overview(string? ClusterId, IReadOnlyList<BrokerView> Brokers, int Topics, int InternalTopics, int Partitions, long Messages,
    long? SizeBytes, int Groups, Rates Rates);

public sealed record CreateTopicRequest(string Name, int? Partitions, short? ReplicationFactor, Dictionary<string, string>? Configs);

public sealed record PartitionView(int Partition, int? Leader, IReadOnlyList<int> Replicas, IReadOnlyList<int> InSyncReplicas, long StartOffset,
    long EndOffset, long Messages, long? SizeBytes);

public sealed record TopicView(string Name, string? TopicId, bool IsInternal, long Messages, long? SizeBytes, string? SizeError, IReadOnlyList<PartitionView> Partitions);

public sealed record AlterConfigsRequest(Dictionary<string, string>? Set, List<string>? Delete);

public sealed record HeaderView(string Key, byte[]? Value);

public sealed record MessageView(int Partition, long Offset, DateTimeOffset Timestamp, string TimestampType, byte[]? Key, byte[]? Value, IReadOnlyList<HeaderView> Headers);

public sealed record BrowseView(IReadOnlyList<MessageView> Messages, long Scanned, bool ScanLimitReached);

/// <summary>A message typed in the console: key, value and header values are UTF-8 text. A null key or value is sent as null.</summary>
public sealed record ProduceRequest(int? Partition, string? Key, string? Value, List<ProduceHeader>? Headers);

public sealed record ProduceHeader(string Key, string? Value);

public sealed record MemberView(string MemberId, string? InstanceId, string ClientId, string Host, IReadOnlyList<string> Assignment);

public sealed record PartitionLagView(string Topic, int Partition, long? CommittedOffset, long? StartOffset, long? EndOffset, long? Lag, string? MemberId, string? ClientId);

public sealed record GroupView(string GroupId, string State, string Type, string PartitionAssignor, int? Coordinator, long TotalLag,
    IReadOnlyList<MemberView> Members, IReadOnlyList<PartitionLagView> Partitions, IReadOnlyList<LagSample> History);

/// <summary>
/// A reset of committed offsets. Mode: to-earliest, to-latest, to-datetime (Time), to-offset (Value) or shift-by (Value).
/// Topic null resets every topic the group has committed for; Partitions null means all of the topic's. Execute false is a dry run.
/// </summary>
public sealed record ResetOffsetsRequest(string Mode, string? Topic, List<int>? Partitions, long? Value, DateTimeOffset? Time, bool Execute);

public sealed record PlannedOffsetView(string Topic, int Partition, long? CurrentOffset, long NewOffset, long EndOffset, long? LagBefore, long LagAfter);

public sealed record ResetOffsetsView(string GroupId, string GroupState, int ActiveMembers, bool Executed, IReadOnlyList<PlannedOffsetView> Partitions);

public sealed record AclView(string ResourceType, string ResourceName, string PatternType, string Principal, string Host, string Operation, string Permission);

public sealed record ScramUserView(string User, IReadOnlyList<ScramCredentialView> Credentials);

public sealed record ScramCredentialView(string Mechanism, int Iterations);

public sealed record UpsertUserRequest(string User, string Password, string? Mechanism, int? Iterations);

internal static class ApiMapping
{
    public static MessageView ToView(ConsumedMessage m) =>
        new(m.Partition, m.Offset, m.Timestamp, m.TimestampType, m.Key, m.Value, m.Headers.Select(h => new HeaderView(h.Key, h.Value)).ToList());

    public static AclView ToView(AclRule r) => new(AclNames.Format(r.ResourceType), r.ResourceName, AclNames.Format(r.PatternType), r.Principal, r.Host,
        AclNames.Format(r.Operation), AclNames.Format(r.Permission));

    public static AclRule ToRule(AclView v) => new(AclNames.ParseResourceType(v.ResourceType), v.ResourceName, AclNames.ParsePatternType(v.PatternType),
        v.Principal, string.IsNullOrEmpty(v.Host) ? "*" : v.Host, AclNames.ParseOperation(v.Operation), AclNames.ParsePermission(v.Permission));

    public static AclQuery ToQuery(AclView v) => new()
    {
        ResourceType = AclNames.ParseResourceType(v.ResourceType),
        ResourceName = v.ResourceName,
        PatternType = AclNames.ParsePatternType(v.PatternType),
        Principal = v.Principal,
        Host = string.IsNullOrEmpty(v.Host) ? null : v.Host,
        Operation = AclNames.ParseOperation(v.Operation),
        Permission = AclNames.ParsePermission(v.Permission),
    };

    public static OffsetReset ToReset(ResetOffsetsRequest request) => request.Mode switch
    {
        "to-earliest" => OffsetReset.ToEarliest(),
        "to-latest" => OffsetReset.ToLatest(),
        "to-datetime" => OffsetReset.ToDateTime(request.Time ?? throw AdminException.Invalid("to-datetime needs a time")),
        "to-offset" => OffsetReset.ToOffset(request.Value ?? throw AdminException.Invalid("to-offset needs an offset")),
        "shift-by" => OffsetReset.ShiftBy(request.Value ?? throw AdminException.Invalid("shift-by needs a number of messages")),
        _ => throw AdminException.Invalid($"unknown reset mode '{request.Mode}' (to-earliest, to-latest, to-datetime, to-offset, shift-by)"),
    };
}
