namespace Telemetry.ServiceDefaults.Text;

/// <summary>
/// The one rule for text arriving at any API boundary. PostgreSQL's text type cannot hold U+0000 (SQLSTATE 22021) and
/// Npgsql's strict UTF-8 encoder throws on an unpaired UTF-16 surrogate, so either would turn a bad request into a 500.
/// Every other control character (C0 U+0000–U+001F including tab and newlines, DEL U+007F, C1 U+0080–U+009F) is
/// refused too: no field of these APIs is free text where one belongs, and an invisible character would make an
/// answer that looks right never equal the correct one.
/// </summary>
public static class StorableText
{
    public const string UnpairedSurrogate = "must not contain unpaired UTF-16 surrogates.";

    /// <summary>Null when the text may be stored; otherwise why not, as a sentence to follow the field's name.</summary>
    public static string? Problem(ReadOnlySpan<char> text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsControl(c))
                return $"must not contain control characters (U+{(int)c:X4}).";
            if (!char.IsSurrogate(c))
                continue;
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                i++;
            else
                return UnpairedSurrogate;
        }
        return null;
    }
}
