using Telemetry.ServiceDefaults.Text;

namespace Telemetry.AttemptsApi.Http;

/// <summary>Collects RFC 7807 validation errors keyed by the offending field's JSON path (e.g. <c>answers[2].questionId</c>).</summary>
public sealed class ValidationErrors
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool IsEmpty => _errors.Count == 0;

    public void Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var messages))
            _errors[field] = messages = [];
        messages.Add(message);
    }

    public Dictionary<string, string[]> ToDictionary() => _errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal);

    /// <summary>A required, non-empty UUID; <see cref="Guid.Empty"/> (with an error recorded) otherwise.</summary>
    public Guid Uuid(string field, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
            Add(field, "is required.");
        else if (StorableText.Problem(value) is { } unstorable)
            Add(field, unstorable);
        else if (!Guid.TryParse(value, out var id))
            Add(field, "must be a UUID.");
        else if (id == Guid.Empty)
            Add(field, "must not be the all-zero UUID.");
        else
            return id;
        return Guid.Empty;
    }

    /// <summary>
    /// A required, non-blank text PostgreSQL can store (see <see cref="StorableText"/>) of at most
    /// <paramref name="maxLength"/> characters, trimmed first when <paramref name="trim"/> is set.
    /// </summary>
    public string Text(string field, string? value, int maxLength, bool trim = false)
    {
        if (string.IsNullOrWhiteSpace(value))
            Add(field, "is required and must not be blank.");
        else if (StorableText.Problem(value) is { } unstorable)
            Add(field, unstorable);
        else if ((trim ? value = value.Trim() : value).Length > maxLength)
            Add(field, $"must be at most {maxLength} characters.");
        else
            return value;
        return "";
    }

    /// <summary>A required whole number in [min, max].</summary>
    public int Number(string field, int? value, int min, int max)
    {
        if (value is null)
            Add(field, "is required.");
        else if (value < min || value > max)
            Add(field, $"must be between {min} and {max}.");
        else
            return value.Value;
        return min;
    }
}
