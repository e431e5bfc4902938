namespace Brook.Broker.Groups;

/// <summary>A group as monitoring sees it: state, protocol type, member count and committed offsets (a copy).</summary>
public sealed record GroupSummary(
    string GroupId,
    string State,
    string Type,
    int Members,
    IReadOnlyDictionary<(string Topic, int Partition), CommittedOffset> Offsets);

public sealed partial class GroupCoordinator
{
    /// <summary>Every live group (not Dead), each read under its own lock; for lag reporting and metrics.</summary>
    public async Task<IReadOnlyList<GroupSummary>> SummarizeGroupsAsync(CancellationToken cancellationToken = default)
    {
        var result = new List<GroupSummary>();
        if (!_loaded) return result;
        foreach (var group in _groups.Values.OrderBy(g => g.Id, StringComparer.Ordinal))
        {
            await group.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (group.State == GroupState.Dead) continue;
                var members = group.Consumer?.Members.Count ?? group.Members.Count;
                result.Add(new GroupSummary(group.Id, group.StateName, group.TypeName, members, new Dictionary<(string, int), CommittedOffset>(group.Offsets)));
            }
            finally
            {
                group.Lock.Release();
            }
        }
        return result;
    }
}
