using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Telemetry.ServiceDefaults.Text;

namespace Telemetry.AttemptsApi.Http;

public readonly record struct BodyResult<T>(T? Value, ProblemHttpResult? Problem) where T : class;

/// <summary>
/// Reads a JSON request body with a size limit (413) and turns malformed JSON into a 400 naming the field
/// (the framework's own binding answers a bare 400 that names nothing).
/// </summary>
public static class JsonBody
{
    public static async Task<BodyResult<T>> ReadAsync<T>(HttpRequest request, int limit, CancellationToken cancellationToken) where T : class
    {
        if (!request.HasJsonContentType())
            return Fail<T>(Problems.Status(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", "Send the body as application/json."));
        if (request.ContentLength > limit)
            return TooLarge<T>(limit);
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
            size.MaxRequestBodySize = limit;

        var json = request.HttpContext.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        var pipe = request.BodyReader;
        while (true)
        {
            System.IO.Pipelines.ReadResult read;
            try
            {
                read = await pipe.ReadAsync(cancellationToken);
            }
            catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                return TooLarge<T>(limit);
            }

            var buffer = read.Buffer;
            if (buffer.Length > limit)
            {
                pipe.AdvanceTo(buffer.End);
                return TooLarge<T>(limit);
            }
            if (!read.IsCompleted)
            {
                pipe.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }

            try
            {
                return Deserialize<T>(buffer, json);
            }
            finally
            {
                pipe.AdvanceTo(buffer.End);
            }
        }
    }

    private static BodyResult<T> Deserialize<T>(ReadOnlySequence<byte> buffer, JsonSerializerOptions json) where T : class
    {
        var errors = new ValidationErrors();
        try
        {
            var reader = new Utf8JsonReader(buffer);
            if (JsonSerializer.Deserialize<T>(ref reader, json) is { } value)
                return new BodyResult<T>(value, null);
            errors.Add("body", "A JSON object is required.");
        }
        catch (JsonException ex)
        {
            var field = FieldOf(ex.Path);
            errors.Add(field, field == "body" ? "is not valid JSON." : WrongValue(ex));
        }
        return Fail<T>(Problems.Validation(errors));
    }

    /// <summary>
    /// The reader refuses an escaped unpaired surrogate ("\ud800") or invalid UTF-8 inside a string before any validator
    /// sees it; it says so only in the text of an InvalidOperationException.
    /// </summary>
    private static string WrongValue(JsonException ex) =>
        ex.InnerException is InvalidOperationException { Message: var message } && message.Contains("UTF-", StringComparison.Ordinal)
            ? StorableText.UnpairedSurrogate
            : "has a value of the wrong type or format.";

    /// <summary>"$.answers[1].questionId" → "answers[1].questionId"; the root or an unknown position → "body".</summary>
    private static string FieldOf(string? path) =>
        path is null || path.Length <= 2 || !path.StartsWith("$.", StringComparison.Ordinal) ? "body" : path[2..];

    private static BodyResult<T> TooLarge<T>(int limit) where T : class =>
        Fail<T>(Problems.Status(StatusCodes.Status413PayloadTooLarge, "Request body too large", $"The body must be at most {limit} bytes."));

    private static BodyResult<T> Fail<T>(ProblemHttpResult problem) where T : class => new(null, problem);
}
