using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Brook.Admin;

public sealed record GroupListing(string GroupId, string State, string Type, bool IsSimple);

public sealed record GroupMemberInfo(string MemberId, string? InstanceId, string ClientId, string Host, IReadOnlyList<TopicPartition> Assignment);

/// <summary>A partition the group consumes or has committed for: the committed offset against the log's offsets.</summary>
/// <remarks>Start and end are null for a partition that no longer exists (offsets committed for a topic deleted since).</remarks>
public sealed record PartitionLag(string Topic, int Partition, long? CommittedOffset, long? StartOffset, long? EndOffset, GroupMemberInfo? Member)
{
    /// <summary>Messages between the committed offset and the end of the log; unknown without a committed offset or a log.</summary>
    public long? Lag => CommittedOffset is { } committed && EndOffset is { } end ? Math.Max(0, end - committed) : null;
}

public sealed record GroupDescription(string GroupId, string State, string Type, string PartitionAssignor, int? Coordinator,
    IReadOnlyList<GroupMemberInfo> Members, IReadOnlyList<PartitionLag> Partitions)
{
    public long TotalLag => Partitions.Sum(p => p.Lag ?? 0);
}

/// <summary>A group at a glance: its state, how many members it has, and its lag summed over the partitions it has committed for.</summary>
public sealed record GroupSummary(string GroupId, string State, string Type, int Members, long TotalLag, IReadOnlyList<string> Topics);

public enum OffsetResetMode
{
    ToEarliest,
    ToLatest,
    ToDateTime,
    ToOffset,
    ShiftBy,
}

/// <summary>Where to move committed offsets: one of Kafka's reset strategies.</summary>
public sealed record OffsetReset(OffsetResetMode Mode, long Value = 0, DateTimeOffset? Time = null)
{
    public static OffsetReset ToEarliest() => new(OffsetResetMode.ToEarliest);

    public static OffsetReset ToLatest() => new(OffsetResetMode.ToLatest);

    public static OffsetReset ToDateTime(DateTimeOffset time) => new(OffsetResetMode.ToDateTime, Time: time);

    public static OffsetReset ToOffset(long offset) => new(OffsetResetMode.ToOffset, offset);

    public static OffsetReset ShiftBy(long delta) => new(OffsetResetMode.ShiftBy, delta);
}

/// <summary>A topic to reset, all its partitions when <paramref name="Partitions"/> is null.</summary>
public sealed record TopicSelection(string Topic, IReadOnlyList<int>? Partitions = null);

public sealed record PlannedOffset(string Topic, int Partition, long? CurrentOffset, long NewOffset);

/// <summary>What a reset would do, computed without changing anything; <see cref="GroupService.ApplyResetAsync"/> carries it out.</summary>
public sealed record OffsetResetPlan(string GroupId, string GroupState, int ActiveMembers, IReadOnlyList<PlannedOffset> Partitions);

/// <summary>Consumer groups: list, describe with lag, reset offsets (plan, then apply), delete.</summary>
public sealed class GroupService
{
    private readonly KafkaAdmin _admin;

    internal GroupService(KafkaAdmin admin) => _admin = admin;

    public async Task<IReadOnlyList<GroupListing>> ListAsync(CancellationToken cancellationToken = default)
    {
        var result = await _admin.CallAsync(
            c => c.ListConsumerGroupsAsync(new ListConsumerGroupsOptions { RequestTimeout = _admin.Timeout }),
            "list groups", cancellationToken).ConfigureAwait(false);
        return result.Valid
            .Select(g => new GroupListing(g.GroupId, g.State.ToString(), g.Type.ToString(), g.IsSimpleConsumerGroup))
            .OrderBy(g => g.GroupId, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>
    /// Every group with state, member count and total lag: one request to describe them all, one committed-offsets request
    /// per group (librdkafka asks one group at a time), and one pair of ListOffsets for every partition involved.
    /// </summary>
    public async Task<IReadOnlyList<GroupSummary>> SummariesAsync(CancellationToken cancellationToken = default)
    {
        var listed = await ListAsync(cancellationToken).ConfigureAwait(false);
        if (listed.Count == 0) return [];
        var ids = listed.Select(g => g.GroupId).ToList();
        var options = new DescribeConsumerGroupsOptions { RequestTimeout = _admin.Timeout };
        async Task<List<ConsumerGroupDescription>> Describe(IAdminClient client)
        {
            try
            {
                return (await client.DescribeConsumerGroupsAsync(ids, options).ConfigureAwait(false)).ConsumerGroupDescriptions;
            }
            catch (DescribeConsumerGroupsException e)
            {
                return e.Results.ConsumerGroupDescriptions.Where(d => !d.Error.IsError).ToList();
            }
        }
        var descriptionsTask = _admin.CallAsync(Describe, "describe groups", cancellationToken);
        var committedTask = Task.WhenAll(ids.Select(id => CommittedOrEmptyAsync(id, cancellationToken)));
        var existingTask = ExistingPartitionsAsync(cancellationToken);
        var descriptions = (await descriptionsTask.ConfigureAwait(false)).ToDictionary(d => d.GroupId, StringComparer.Ordinal);
        var committed = await committedTask.ConfigureAwait(false);
        // Offsets committed for topics deleted since have no log end to compare with.
        var existing = await existingTask.ConfigureAwait(false);
        var partitions = committed.SelectMany(c => c.Keys).Where(existing.Contains).Distinct().ToList();
        var offsets = await _admin.Topics.ListOffsetsAsync(partitions, cancellationToken).ConfigureAwait(false);

        return listed.Select((g, i) =>
        {
            var description = descriptions.GetValueOrDefault(g.GroupId);
            var lag = committed[i].Where(c => offsets.ContainsKey(c.Key)).Sum(c => Math.Max(0, offsets[c.Key].End - c.Value));
            var topics = committed[i].Keys.Select(tp => tp.Topic)
                .Concat(description?.Members.SelectMany(m => m.Assignment?.TopicPartitions?.Select(tp => tp.Topic) ?? []) ?? [])
                .Distinct().Order(StringComparer.Ordinal).ToList();
            return new GroupSummary(g.GroupId, description?.State.ToString() ?? g.State, g.Type, description?.Members.Count ?? 0, lag, topics);
        }).ToList();
    }

    private async Task<Dictionary<TopicPartition, long>> CommittedOrEmptyAsync(string groupId, CancellationToken cancellationToken)
    {
        try
        {
            return await CommittedAsync(groupId, cancellationToken).ConfigureAwait(false);
        }
        catch (AdminException ex) when (ex.Kind is AdminErrorKind.NotFound)
        {
            return [];
        }
    }

    /// <summary>State, members with their assignments, and committed offset and lag for every partition the group consumes or committed.</summary>
    public async Task<GroupDescription> DescribeAsync(string groupId, CancellationToken cancellationToken = default)
    {
        var description = await DescribeGroupAsync(groupId, cancellationToken).ConfigureAwait(false);
        var committed = await CommittedAsync(groupId, cancellationToken).ConfigureAwait(false);
        var members = description.Members
            .Select(m => new GroupMemberInfo(m.ConsumerId, m.GroupInstanceId, m.ClientId, m.Host,
                m.Assignment?.TopicPartitions?.OrderBy(tp => tp.Topic, StringComparer.Ordinal).ThenBy(tp => tp.Partition.Value).ToList() ?? []))
            .ToList();
        if (members.Count == 0 && committed.Count == 0 && description.State is ConsumerGroupState.Dead or ConsumerGroupState.Unknown)
            throw AdminException.NotFound($"group '{groupId}' does not exist");

        var owner = new Dictionary<TopicPartition, GroupMemberInfo>();
        foreach (var member in members)
            foreach (var tp in member.Assignment) owner[tp] = member;
        var partitions = committed.Keys.Concat(owner.Keys).Distinct().ToList();
        // Offsets committed for topics deleted since are still shown (they can be deleted), without a log to measure lag against.
        var existing = await ExistingPartitionsAsync(cancellationToken).ConfigureAwait(false);
        var offsets = await _admin.Topics.ListOffsetsAsync(partitions.Where(existing.Contains).ToList(), cancellationToken).ConfigureAwait(false);
        var lags = partitions
            .OrderBy(tp => tp.Topic, StringComparer.Ordinal).ThenBy(tp => tp.Partition.Value)
            .Select(tp =>
            {
                var log = offsets.TryGetValue(tp, out var o) ? o : null;
                return new PartitionLag(tp.Topic, tp.Partition.Value, committed.TryGetValue(tp, out var c) ? c : null,
                    log?.Start, log?.End, owner.GetValueOrDefault(tp));
            })
            .ToList();
        return new GroupDescription(groupId, description.State.ToString(), description.GroupType.ToString(), description.PartitionAssignor ?? "",
            description.Coordinator?.Id, members, lags);
    }

    /// <summary>
    /// Computes where each partition's committed offset would move, clamped to the log's start and end like Kafka does.
    /// With <paramref name="topics"/> null, every topic the group has committed offsets for.
    /// </summary>
    public async Task<OffsetResetPlan> PlanResetAsync(string groupId, IReadOnlyList<TopicSelection>? topics, OffsetReset reset, CancellationToken cancellationToken = default)
    {
        var description = await DescribeGroupAsync(groupId, cancellationToken).ConfigureAwait(false);
        var committed = await CommittedAsync(groupId, cancellationToken).ConfigureAwait(false);
        List<TopicPartition> partitions;
        if (topics is null)
        {
            if (committed.Count == 0) throw AdminException.Invalid($"group '{groupId}' has no committed offsets; name the topics to reset");
            // A topic deleted since has no log to reset against; its stale offsets are left for `groups delete-offsets`.
            var existing = await ExistingPartitionsAsync(cancellationToken).ConfigureAwait(false);
            partitions = committed.Keys.Where(existing.Contains).ToList();
        }
        else
        {
            partitions = await SelectPartitionsAsync(topics, cancellationToken).ConfigureAwait(false);
        }
        partitions = partitions.OrderBy(tp => tp.Topic, StringComparer.Ordinal).ThenBy(tp => tp.Partition.Value).ToList();

        var offsets = await _admin.Topics.ListOffsetsAsync(partitions, cancellationToken).ConfigureAwait(false);
        var byTime = reset.Mode == OffsetResetMode.ToDateTime
            ? await _admin.Topics.OffsetsForTimeAsync(partitions, reset.Time ?? throw AdminException.Invalid("to-datetime needs a time"), cancellationToken).ConfigureAwait(false)
            : null;
        var planned = new List<PlannedOffset>(partitions.Count);
        foreach (var tp in partitions)
        {
            long? current = committed.TryGetValue(tp, out var c) ? c : null;
            var log = offsets[tp];
            var target = reset.Mode switch
            {
                OffsetResetMode.ToEarliest => log.Start,
                OffsetResetMode.ToLatest => log.End,
                // No record at or after the time: the end, where the next record will land.
                OffsetResetMode.ToDateTime => byTime![tp] is var at and >= 0 ? at : log.End,
                OffsetResetMode.ToOffset => reset.Value,
                OffsetResetMode.ShiftBy => (current ?? throw AdminException.Invalid($"{tp.Topic}-{tp.Partition.Value} has no committed offset to shift from"))
                    + reset.Value,
                _ => throw new ArgumentOutOfRangeException(nameof(reset)),
            };
            planned.Add(new PlannedOffset(tp.Topic, tp.Partition.Value, current, Math.Clamp(target, log.Start, log.End)));
        }
        return new OffsetResetPlan(groupId, description.State.ToString(), description.Members.Count, planned);
    }

    /// <summary>Commits the plan's offsets. Refused while the group has active members, whose commits would race the reset.</summary>
    public async Task ApplyResetAsync(OffsetResetPlan plan, CancellationToken cancellationToken = default)
    {
        var description = await DescribeGroupAsync(plan.GroupId, cancellationToken).ConfigureAwait(false);
        if (description.Members.Count > 0 || description.State is not (ConsumerGroupState.Empty or ConsumerGroupState.Dead or ConsumerGroupState.Unknown))
        {
            throw AdminException.Conflict(
                $"group '{plan.GroupId}' is {description.State} with {description.Members.Count} active member(s); offsets can only be reset while the group is inactive");
        }
        if (plan.Partitions.Count == 0) return;
        var offsets = plan.Partitions.Select(p => new TopicPartitionOffset(p.Topic, p.Partition, p.NewOffset)).ToList();
        await _admin.CallAsync(
            c => c.AlterConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitionOffsets(plan.GroupId, offsets)],
                new AlterConsumerGroupOffsetsOptions { RequestTimeout = _admin.Timeout }),
            $"reset offsets of group '{plan.GroupId}'", cancellationToken,
            ex => ex is AlterConsumerGroupOffsetsException e
                ? KafkaAdmin.FirstError(e.Results.SelectMany(r => r.Partitions), p => p.Error, p => $"reset offset of {p.Topic}-{p.Partition.Value}")
                  ?? (e.Error.IsError ? AdminException.From(e.Error, $"reset offsets of group '{plan.GroupId}'") : null)
                : null).ConfigureAwait(false);
    }

    public Task DeleteAsync(IReadOnlyList<string> groupIds, CancellationToken cancellationToken = default) =>
        _admin.CallAsync(
            c => c.DeleteGroupsAsync(groupIds.ToList(), new DeleteGroupsOptions { RequestTimeout = _admin.Timeout }),
            "delete groups", cancellationToken,
            ex => ex is DeleteGroupsException e
                ? KafkaAdmin.FirstError(e.Results, r => r.Error, r => r.Error.Code == ErrorCode.NonEmptyGroup
                    ? $"group '{r.Group}' still has active members"
                    : $"delete group '{r.Group}'")
                : null);

    private async Task<HashSet<TopicPartition>> ExistingPartitionsAsync(CancellationToken cancellationToken) =>
        (await _admin.MetadataAsync(null, cancellationToken).ConfigureAwait(false)).Topics.Where(t => !t.Error.IsError)
            .SelectMany(t => t.Partitions.Select(p => new TopicPartition(t.Topic, p.PartitionId))).ToHashSet();

    private async Task<ConsumerGroupDescription> DescribeGroupAsync(string groupId, CancellationToken cancellationToken)
    {
        var result = await _admin.CallAsync(
            c => c.DescribeConsumerGroupsAsync([groupId], new DescribeConsumerGroupsOptions { RequestTimeout = _admin.Timeout }),
            $"describe group '{groupId}'", cancellationToken,
            ex => ex is DescribeConsumerGroupsException e
                ? KafkaAdmin.FirstError(e.Results.ConsumerGroupDescriptions, d => d.Error,
                    d => d.Error.Code == ErrorCode.GroupIdNotFound ? $"group '{d.GroupId}' does not exist" : $"describe group '{d.GroupId}'")
                : null).ConfigureAwait(false);
        return result.ConsumerGroupDescriptions[0];
    }

    private async Task<Dictionary<TopicPartition, long>> CommittedAsync(string groupId, CancellationToken cancellationToken)
    {
        var results = await _admin.CallAsync(
            c => c.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions(groupId, null)],
                new ListConsumerGroupOffsetsOptions { RequestTimeout = _admin.Timeout }),
            $"committed offsets of group '{groupId}'", cancellationToken,
            ex => ex is ListConsumerGroupOffsetsException e
                ? KafkaAdmin.FirstError(e.Results, r => r.Error, r => $"committed offsets of group '{r.Group}'")
                : null).ConfigureAwait(false);
        return results[0].Partitions
            .Where(p => !p.Error.IsError && p.Offset.Value >= 0)
            .ToDictionary(p => p.TopicPartition, p => p.Offset.Value);
    }

    private async Task<List<TopicPartition>> SelectPartitionsAsync(IReadOnlyList<TopicSelection> topics, CancellationToken cancellationToken)
    {
        var result = new List<TopicPartition>();
        foreach (var selection in topics)
        {
            var existing = await _admin.Topics.PartitionsAsync(selection.Topic, cancellationToken).ConfigureAwait(false);
            if (selection.Partitions is null)
            {
                result.AddRange(existing.Select(p => new TopicPartition(selection.Topic, p)));
                continue;
            }
            var missing = selection.Partitions.Where(p => !existing.Contains(p)).ToList();
            if (missing.Count > 0) throw AdminException.NotFound($"topic '{selection.Topic}' has no partition {missing[0]}");
            result.AddRange(selection.Partitions.Distinct().Select(p => new TopicPartition(selection.Topic, p)));
        }
        return result.Distinct().ToList();
    }
}
