using Brook.Broker.Security;
using Brook.Protocol;
using Brook.Protocol.Messages;
using Brook.Storage;

namespace Brook.Broker.Handlers;

/// <summary>
/// DescribeProducers (key 61), version 0: the producer state each partition keeps (ids, epochs, open transactions).
/// Needs READ on each topic.
/// </summary>
public sealed class DescribeProducersHandler(ILogStore store) : RequestHandler<DescribeProducersRequest, DescribeProducersResponse>
{
    protected override async ValueTask<DescribeProducersResponse?> HandleAsync(RequestContext context, DescribeProducersRequest request, CancellationToken cancellationToken)
    {
        var response = new DescribeProducersResponse();
        foreach (var topic in request.Topics)
        {
            var topicResponse = new DescribeProducersResponse.TopicResponse { Name = topic.Name };
            response.Topics.Add(topicResponse);
            foreach (var index in topic.PartitionIndexes)
            {
                var partition = new DescribeProducersResponse.PartitionResponse { PartitionIndex = index };
                topicResponse.Partitions.Add(partition);
                if (!context.IsAllowed(AclOperation.Read, ResourceType.Topic, topic.Name))
                {
                    partition.ErrorCode = (short)ErrorCode.TopicAuthorizationFailed;
                    continue;
                }
                if (store.GetPartition(topic.Name, index) is not { } log)
                {
                    partition.ErrorCode = (short)ErrorCode.UnknownTopicOrPartition;
                    partition.ErrorMessage = $"This server does not host {topic.Name}-{index}.";
                    continue;
                }
                foreach (var producer in await log.DescribeProducersAsync(cancellationToken).ConfigureAwait(false))
                {
                    partition.ActiveProducers.Add(new DescribeProducersResponse.ProducerState
                    {
                        ProducerId = producer.ProducerId,
                        ProducerEpoch = producer.Epoch,
                        LastSequence = producer.LastSequence,
                        LastTimestamp = producer.LastTimestamp,
                        CoordinatorEpoch = producer.CoordinatorEpoch,
                        CurrentTxnStartOffset = producer.CurrentTxnStartOffset,
                    });
                }
            }
        }
        return response;
    }
}
