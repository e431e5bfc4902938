using Brook.CrashHarness;

// A development tool, not shipped: drives a real brook-server child process through failures and checks what clients
// see. scripts/full-disk.sh and scripts/crash-test.sh run it.
var command = args.Length > 0 ? args[0] : "";
Options options;
try
{
    options = Options.Parse(args.Length > 0 ? args[1..] : []);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return Usage();
}
return command switch
{
    "full-disk" => await FullDiskCheck.RunAsync(options),
    "crash" => await CrashTest.RunAsync(options),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("""
        usage:
          brook-crash-harness crash --server BROOK_SERVER_DLL --work DIR [--kills N] [--partitions N] [--writers N] [--rate MSGS_PER_S]
                              [--min-uptime-ms N] [--max-uptime-ms N] [--seed N] [--overrides KEY=VALUE,...] [--sabotage yes]
          brook-crash-harness full-disk --server BROOK_SERVER_DLL --mount DIR --filler FILE [--message-bytes N] [--log FILE]
        """);
    return 2;
}
