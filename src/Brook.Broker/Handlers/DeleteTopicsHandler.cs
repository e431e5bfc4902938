using Brook.Broker.Groups;
using Brook.Broker.Security;
using Brook.Broker.Topics;
using Brook.Protocol;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>
/// DeleteTopics (key 20). v4: flexible; v5: error messages; v6: topics by name or by id. Needs DELETE on each topic
/// (and DESCRIBE to learn the name of a topic named by id). Groups' committed offsets for a deleted topic go with it, as in
/// Kafka, so a topic created again under the same name starts without them.
/// </summary>
public sealed class DeleteTopicsHandler(TopicService topics, GroupCoordinator groups) : RequestHandler<DeleteTopicsRequest, DeleteTopicsResponse>
{
    protected override async ValueTask<DeleteTopicsResponse?> HandleAsync(RequestContext context, DeleteTopicsRequest request, CancellationToken cancellationToken)
    {
        var response = new DeleteTopicsResponse();
        var targets = context.ApiVersion >= 6
            ? request.Topics.Select(t => (t.Name, t.TopicId)).ToList()
            : request.TopicNames.Select(n => ((string?)n, KafkaUuid.Zero)).ToList();
        foreach (var (name, id) in targets)
        {
            var result = new DeleteTopicsResponse.DeletableTopicResult { Name = name, TopicId = id };
            response.Responses.Add(result);
            var resolved = name ?? topics.Store.GetTopic(id)?.Name;
            if (resolved is null)
            {
                result.ErrorCode = (short)(id.IsZero ? ErrorCode.InvalidRequest : ErrorCode.UnknownTopicId);
                result.ErrorMessage = "No such topic.";
                continue;
            }
            if (!context.IsAllowed(AclOperation.Delete, ResourceType.Topic, resolved))
            {
                // A topic named by id keeps its name from a client that may not even describe it.
                result.Name = name is null && !context.IsAllowed(AclOperation.Describe, ResourceType.Topic, resolved, logIfDenied: false) ? null : resolved;
                result.ErrorCode = (short)ErrorCode.TopicAuthorizationFailed;
                result.ErrorMessage = "Not authorized to delete the topic.";
                continue;
            }
            var outcome = await topics.DeleteAsync(resolved, cancellationToken).ConfigureAwait(false);
            result.Name = resolved;
            if (outcome.Error != ErrorCode.None)
            {
                result.ErrorCode = (short)outcome.Error;
                result.ErrorMessage = outcome.Message;
            }
            else
            {
                result.TopicId = outcome.Topic!.TopicId;
                await groups.RemoveOffsetsOfDeletedTopicAsync(resolved, cancellationToken).ConfigureAwait(false);
            }
        }
        return response;
    }
}
