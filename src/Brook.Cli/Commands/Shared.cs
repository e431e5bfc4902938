using System.CommandLine;

namespace Brook.Cli.Commands;

/// <summary>Options and checks several commands share.</summary>
internal static class Shared
{
    internal static Option<string[]> ConfigOption(string name, string description)
    {
        var option = new Option<string[]>(name) { Description = description, AllowMultipleArgumentsPerToken = false };
        option.Validators.Add(result =>
        {
            foreach (var token in result.Tokens)
            {
                if (token.Value.IndexOf('=', StringComparison.Ordinal) <= 0) result.AddError($"{name} '{token.Value}' is not name=value");
            }
        });
        return option;
    }

    /// <summary>At least one of the options must be given.</summary>
    internal static void RequireAny(Command command, params Option[] options) =>
        command.Validators.Add(result =>
        {
            if (options.All(o => result.GetResult(o) is null))
                result.AddError($"give at least one of {string.Join(", ", options.Select(o => o.Name))}");
        });

    /// <summary>Exactly one of the options must be given.</summary>
    internal static void RequireOne(Command command, params Option[] options) =>
        command.Validators.Add(result =>
        {
            var given = options.Count(o => result.GetResult(o) is { Implicit: false });
            if (given != 1) result.AddError($"give exactly one of {string.Join(", ", options.Select(o => o.Name))}");
        });
}
