namespace Telemetry.ServiceDefaults.Logging;

/// <summary>Seq__ServerUrl (e.g. http://seq:5341) turns the Seq sink on; Seq__ApiKey is sent when set.</summary>
public sealed class SeqOptions
{
    public const string Section = "Seq";

    public string? ServerUrl { get; set; }

    public string? ApiKey { get; set; }
}
