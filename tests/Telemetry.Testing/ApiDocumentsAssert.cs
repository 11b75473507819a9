using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Xunit;

namespace Telemetry.Testing;

/// <summary>Checks of the API documents every API serves through the shared ApiDocuments.</summary>
public static class ApiDocumentsAssert
{
    /// <summary>/scalar answers 404 by default and an HTML page once OpenApi:Scalar is true.</summary>
    public static async Task ReferencePageIsOffUnlessSwitchedOnAsync<TProgram>(WebApplicationFactory<TProgram> api) where TProgram : class
    {
        using var off = api.CreateClient();
        Assert.Equal(HttpStatusCode.NotFound, (await off.GetAsync("/scalar")).StatusCode);

        await using var on = api.WithWebHostBuilder(b => b.UseSetting("OpenApi:Scalar", "true"));
        using var client = on.CreateClient();
        using var page = await client.GetAsync("/scalar");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
    }
}
