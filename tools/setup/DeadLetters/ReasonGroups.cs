using System.Text.RegularExpressions;

namespace Telemetry.Setup.DeadLetters;

/// <summary>
/// Reasons are per message ("createdAt 2026-11-22T10:00:00.0000000+00:00 is outside …"). Dead letters are grouped by
/// their reason with the ids, timestamps and dates in it replaced by {id}, {time} and {date}; other numbers stay, as
/// they name a rule's limit or a SQLSTATE.
/// </summary>
internal static partial class ReasonGroups
{
    public static string Of(string reason) =>
        Dates().Replace(Timestamps().Replace(Ids().Replace(reason, "{id}"), "{time}"), "{date}");

    [GeneratedRegex(@"\b[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\b")]
    private static partial Regex Ids();

    [GeneratedRegex(@"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2}\b)?")]
    private static partial Regex Timestamps();

    [GeneratedRegex(@"\b\d{4}-\d{2}-\d{2}\b")]
    private static partial Regex Dates();
}
