using System.CommandLine;
using Brook.Admin;

namespace Brook.Cli.Commands;

internal static class UserCommands
{
    public static Command Create(CommandFactory commands) => CommandFactory.Group("users", "SCRAM users: list, upsert, delete",
        List(commands), Upsert(commands), Delete(commands));

    private static Command List(CommandFactory commands)
    {
        var users = new Argument<string[]>("user") { Description = "Users to show (default: all)", Arity = ArgumentArity.ZeroOrMore };
        return commands.Command("list", "List users with SCRAM credentials", [users], async (ctx, ct) =>
        {
            var result = await ctx.Admin.Users.ListAsync(ctx.Get(users) ?? [], ct).ConfigureAwait(false);
            ctx.Output.Table(["USER", "MECHANISM", "ITERATIONS"],
                result.SelectMany(u => u.Credentials.Select(c => (IReadOnlyList<object?>)[u.User, ScramUserService.Format(c.Mechanism), c.Iterations])));
            return ExitCodes.Ok;
        });
    }

    private static Command Upsert(CommandFactory commands)
    {
        var user = new Argument<string>("user") { Description = "The user name" };
        var password = new Option<string?>("--password") { Description = "The password (or give --password-stdin)" };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the password from the first line of stdin" };
        var mechanism = Mechanism();
        var iterations = new Option<int>("--iterations") { Description = "PBKDF2 iterations", DefaultValueFactory = _ => ScramUserService.DefaultIterations };
        var command = commands.Command("upsert", "Create a user's SCRAM credential or replace it", [user, password, passwordStdin, mechanism, iterations], async (ctx, ct) =>
        {
            var secret = ctx.Get(passwordStdin) ? await ctx.Console.In.ReadLineAsync(ct).ConfigureAwait(false) : ctx.Get(password);
            if (string.IsNullOrEmpty(secret)) throw new UsageException("the password is empty");
            var name = ctx.Get(user);
            await ctx.Admin.Users.UpsertAsync(name, secret, ParseMechanism(ctx.Get(mechanism)!), ctx.Get(iterations), ct).ConfigureAwait(false);
            ctx.Output.Done($"upserted {ctx.Get(mechanism)} credential of user '{name}'");
            return ExitCodes.Ok;
        });
        Shared.RequireOne(command, password, passwordStdin);
        return command;
    }

    private static Command Delete(CommandFactory commands)
    {
        var user = new Argument<string>("user") { Description = "The user name" };
        var mechanism = Mechanism();
        return commands.Command("delete", "Delete a user's SCRAM credential", [user, mechanism], async (ctx, ct) =>
        {
            var name = ctx.Get(user);
            await ctx.Admin.Users.DeleteAsync(name, ParseMechanism(ctx.Get(mechanism)!), ct).ConfigureAwait(false);
            ctx.Output.Done($"deleted {ctx.Get(mechanism)} credential of user '{name}'");
            return ExitCodes.Ok;
        });
    }

    private static Option<string> Mechanism()
    {
        var option = new Option<string>("--mechanism") { Description = "SCRAM-SHA-256 or SCRAM-SHA-512", DefaultValueFactory = _ => "SCRAM-SHA-256" };
        option.Validators.Add(r =>
        {
            try { ScramUserService.ParseMechanism(r.GetValueOrDefault<string>()); }
            catch (AdminException ex) { r.AddError(ex.Message); }
        });
        return option;
    }

    private static Confluent.Kafka.Admin.ScramMechanism ParseMechanism(string text) => ScramUserService.ParseMechanism(text);
}
