using System.CommandLine;

namespace Brook.Cli.Commands;

internal static class ClusterCommands
{
    public static Command Create(CommandFactory commands) => CommandFactory.Group("cluster", "The cluster: id, brokers, controller",
        commands.Command("describe", "Show the cluster id, the controller and every broker", [], async (ctx, ct) =>
        {
            var cluster = await ctx.Admin.Cluster.DescribeAsync(ct).ConfigureAwait(false);
            if (ctx.Output.Interactive) ctx.Output.Properties([("Cluster id", cluster.ClusterId), ("Controller", cluster.Controller?.Id)]);
            ctx.Output.Table(["BROKER", "HOST", "PORT", "RACK", "CONTROLLER"],
                cluster.Brokers.Select(b => (IReadOnlyList<object?>)[b.Id, b.Host, b.Port, b.Rack, b.Id == cluster.Controller?.Id]));
            if (!ctx.Output.Interactive) ctx.Output.Note($"cluster id {cluster.ClusterId ?? "-"}");
            return ExitCodes.Ok;
        }));
}
