using System.Globalization;
using Telemetry.ServiceDefaults.Text;

namespace Telemetry.StatsApi.Stats;

/// <summary>
/// Reads route and query parameters from their text, collecting one message per bad parameter under its name, so a
/// request with several mistakes learns of all of them in one validation problem.
/// </summary>
public sealed class StatsParameters
{
    private readonly Dictionary<string, string[]> _errors = [];

    public IDictionary<string, string[]>? Errors => _errors.Count == 0 ? null : _errors;

    public Guid Uuid(string name, string? value) =>
        string.IsNullOrEmpty(value) ? Fail<Guid>(name, $"{name} is required.") : ParseUuid(name, value);

    public Guid? OptionalUuid(string name, string? value) => value is null ? null : ParseUuid(name, value);

    public int Integer(string name, string? value, int min, int max) =>
        string.IsNullOrEmpty(value) ? Fail<int>(name, $"{name} is required.") : ParseInteger(name, value, min, max);

    public int OptionalInteger(string name, string? value, int min, int max, int fallback) =>
        value is null ? fallback : ParseInteger(name, value, min, max);

    public DateOnly Date(string name, string? value)
    {
        if (string.IsNullOrEmpty(value))
            return Fail<DateOnly>(name, $"{name} is required (a UTC day, YYYY-MM-DD).");
        if (Unstorable(name, value))
            return default;
        return DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day)
            ? day
            : Fail<DateOnly>(name, $"{name} must be a day as YYYY-MM-DD.");
    }

    /// <summary>An inclusive range of days, from at most maxDays long; its errors are reported under "to".</summary>
    public (DateOnly From, DateOnly To) DayRange(string? from, string? to, int maxDays)
    {
        var (first, last) = (Date("from", from), Date("to", to));
        if (Errors is not null)
            return (first, last);
        var days = last.DayNumber - first.DayNumber + 1;
        if (days < 1)
            Fail<int>("to", "to must not be before from.");
        else if (days > maxDays)
            Fail<int>("to", $"The range from {first:yyyy-MM-dd} to {last:yyyy-MM-dd} spans {days} days; at most {maxDays} are allowed.");
        return (first, last);
    }

    private Guid ParseUuid(string name, string value) =>
        Unstorable(name, value) ? default
        : Guid.TryParse(value, out var id) ? id : Fail<Guid>(name, $"{name} must be a UUID.");

    private int ParseInteger(string name, string value, int min, int max) =>
        Unstorable(name, value) ? default
        : int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number >= min && number <= max
            ? number
            : Fail<int>(name, $"{name} must be a whole number from {min} to {max}.");

    /// <summary>The shared text rule first, so a NUL is named as such rather than as a malformed value.</summary>
    private bool Unstorable(string name, string value)
    {
        if (StorableText.Problem(value) is not { } problem)
            return false;
        _errors[name] = [$"{name} {problem}"];
        return true;
    }

    private T Fail<T>(string name, string message) where T : struct
    {
        _errors[name] = [message];
        return default;
    }
}
