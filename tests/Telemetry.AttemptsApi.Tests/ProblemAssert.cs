using System.Net;
using System.Text.Json;
using Xunit;

namespace Telemetry.AttemptsApi.Tests;

public static class ProblemAssert
{
    /// <summary>An RFC 7807 answer with this status; returns its body.</summary>
    public static async Task<JsonElement> IsProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(text).RootElement.Clone();
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        return problem;
    }

    /// <summary>An RFC 7807 answer with this status whose errors name the field.</summary>
    public static async Task<JsonElement> NamesFieldAsync(HttpResponseMessage response, HttpStatusCode status, string field)
    {
        var problem = await IsProblemAsync(response, status);
        Assert.True(
            problem.TryGetProperty("errors", out var errors) && errors.TryGetProperty(field, out _),
            $"the problem should name '{field}': {problem}");
        return problem;
    }
}
