using Brook.Admin;

namespace Brook.Cli;

/// <summary>The process exit codes, documented in <c>brook --help</c> and the README.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int Error = 1;
    public const int Usage = 2;
    public const int NotFound = 3;
    public const int Conflict = 4;
    public const int Unsupported = 5;
    public const int Unreachable = 6;
    public const int NotAuthorized = 7;
    public const int Interrupted = 130;

    public const string Help =
        "Exit codes: 0 ok, 1 error, 2 usage (bad arguments or a value the cluster rejected), 3 not found, " +
        "4 conflict (already exists, group still active), 5 not supported by the cluster, 6 cluster unreachable or timed out, " +
        "7 not authorized, 130 interrupted.";

    public static int For(AdminErrorKind kind) => kind switch
    {
        AdminErrorKind.Invalid => Usage,
        AdminErrorKind.NotFound => NotFound,
        AdminErrorKind.Conflict => Conflict,
        AdminErrorKind.Unsupported => Unsupported,
        AdminErrorKind.Unreachable => Unreachable,
        AdminErrorKind.NotAuthorized => NotAuthorized,
        _ => Error,
    };
}
