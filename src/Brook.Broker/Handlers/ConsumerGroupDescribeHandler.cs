using Brook.Broker.Groups;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>ConsumerGroupDescribe (key 69), v0: epochs, assignor and members with current and target assignments of consumer-protocol groups.</summary>
public sealed class ConsumerGroupDescribeHandler(GroupCoordinator coordinator) : RequestHandler<ConsumerGroupDescribeRequest, ConsumerGroupDescribeResponse>
{
    protected override async ValueTask<ConsumerGroupDescribeResponse?> HandleAsync(RequestContext context, ConsumerGroupDescribeRequest request, CancellationToken cancellationToken)
    {
        var response = new ConsumerGroupDescribeResponse();
        foreach (var id in request.GroupIds)
            response.Groups.Add(await coordinator.DescribeConsumerGroupAsync(id, cancellationToken).ConfigureAwait(false));
        return response;
    }
}
