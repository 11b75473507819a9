using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection;
using Telemetry.AttemptsApi.Http;
using Telemetry.AttemptsApi.Submissions;
using Xunit;

namespace Telemetry.AttemptsApi.Tests;

public sealed class JsonBodyTests
{
    [Fact]
    public async Task A_body_without_content_length_is_cut_off_at_the_limit_with_413()
    {
        var request = Request("{\"attemptId\":\"" + new string('x', 5000) + "\"}");

        var result = await JsonBody.ReadAsync<SubmitRequest>(request, limit: 1024, CancellationToken.None);

        Assert.Null(request.ContentLength);
        Assert.Equal(StatusCodes.Status413PayloadTooLarge, result.Problem?.StatusCode);
    }

    [Fact]
    public async Task A_body_without_content_length_within_the_limit_is_read()
    {
        var result = await JsonBody.ReadAsync<SubmitRequest>(Request("""{"attemptId":"a","durationSec":5}"""), limit: 1024, CancellationToken.None);

        Assert.Null(result.Problem);
        Assert.Equal(new SubmitRequest("a", null, 5, null), result.Value);
    }

    [Theory]
    [InlineData("""{"durationSec":true}""", "durationSec")]
    [InlineData("""{"answers":[{"questionId":7}]}""", "answers[0].questionId")]
    [InlineData("""{"attemptId":""", "body")]
    [InlineData("", "body")]
    public async Task Malformed_json_is_a_400_naming_the_field(string body, string field)
    {
        var result = await JsonBody.ReadAsync<SubmitRequest>(Request(body), limit: 1024, CancellationToken.None);

        var problem = Assert.IsType<HttpValidationProblemDetails>(Assert.IsType<ProblemHttpResult>(result.Problem).ProblemDetails);
        Assert.Equal(400, problem.Status);
        Assert.Contains(field, problem.Errors.Keys);
    }

    private static HttpRequest Request(string body)
    {
        var context = new DefaultHttpContext
        {
            RequestServices = new ServiceCollection().AddOptions().BuildServiceProvider(),
        };
        context.Request.ContentType = "application/json";
        context.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(body));
        return context.Request;
    }
}
