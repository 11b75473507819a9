namespace Telemetry.Testing.Bench;

/// <summary>The start of every benchmark's and the load generator's Main: options from the arguments, or the usage.</summary>
public static class CommandLine
{
    /// <summary>
    /// The parsed options; or null with the exit code Main returns: 0 after printing the usage for --help or -h, 2 after
    /// printing what is wrong with the arguments (an <see cref="ArgumentException"/> from <paramref name="parse"/>) and the usage.
    /// </summary>
    public static T? ParseOrExit<T>(string[] args, string usage, Func<string[], T> parse, out int exitCode) where T : class
    {
        exitCode = 0;
        if (args.Contains("--help") || args.Contains("-h"))
        {
            Console.WriteLine(usage);
            return null;
        }
        try
        {
            return parse(args);
        }
        catch (ArgumentException ex)
        {
            Console.Error.WriteLine($"{ex.Message}\n{usage}");
            exitCode = 2;
            return null;
        }
    }
}
