using Brook.Broker.Security;
using Brook.Protocol;
using Brook.Protocol.Messages;
using Brook.Storage;

namespace Brook.Broker.Handlers;

/// <summary>DescribeLogDirs (key 35): the one data directory with partition sizes. v3: top-level error; v4: disk totals. Needs DESCRIBE on the cluster.</summary>
public sealed class DescribeLogDirsHandler(ILogStore store, BrokerOptions options) : RequestHandler<DescribeLogDirsRequest, DescribeLogDirsResponse>
{
    protected override ValueTask<DescribeLogDirsResponse?> HandleAsync(RequestContext context, DescribeLogDirsRequest request, CancellationToken cancellationToken)
    {
        if (!context.IsClusterAllowed(AclOperation.Describe))
            return ValueTask.FromResult<DescribeLogDirsResponse?>(new DescribeLogDirsResponse { ErrorCode = (short)ErrorCode.ClusterAuthorizationFailed });
        var dir = new DescribeLogDirsResponse.DescribeLogDirsResult { LogDir = options.InMemory ? "memory" : Path.GetFullPath(options.DataDirectory) };
        if (!options.InMemory)
        {
            try
            {
                var drive = new DriveInfo(dir.LogDir);
                dir.TotalBytes = drive.TotalSize;
                dir.UsableBytes = drive.AvailableFreeSpace;
            }
            catch (Exception ex) when (ex is IOException or ArgumentException or UnauthorizedAccessException)
            {
                // Totals are optional (-1 = unknown).
            }
        }
        // A topic named twice asks for the union of its partitions.
        var wanted = request.Topics?.GroupBy(t => t.Topic, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.SelectMany(t => t.Partitions).ToHashSet(), StringComparer.Ordinal);
        foreach (var topic in store.ListTopics().OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            HashSet<int>? partitions = null;
            if (wanted is not null && !wanted.TryGetValue(topic.Name, out partitions)) continue;
            var result = new DescribeLogDirsResponse.DescribeLogDirsTopic { Name = topic.Name };
            for (var p = 0; p < topic.PartitionCount; p++)
            {
                if (partitions is not null && !partitions.Contains(p)) continue;
                var log = store.GetPartition(topic.Name, p);
                if (log is null) continue;
                result.Partitions.Add(new DescribeLogDirsResponse.DescribeLogDirsPartition { PartitionIndex = p, PartitionSize = log.SizeInBytes, OffsetLag = 0 });
            }
            if (result.Partitions.Count > 0) dir.Topics.Add(result);
        }
        var response = new DescribeLogDirsResponse();
        response.Results.Add(dir);
        return ValueTask.FromResult<DescribeLogDirsResponse?>(response);
    }
}
