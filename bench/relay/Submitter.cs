using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Telemetry.Testing;

namespace Telemetry.Bench.Relay;

/// <summary>
/// Closed-loop submitters: each client posts one attempt after another on its own keep-alive connection, as its own
/// wallet (a JWT minted like the platform's). Bodies are serialized before the clock starts.
/// </summary>
public sealed class Submitter : IDisposable
{
    private readonly Guid _trackId;
    private readonly Guid[] _questions;
    private readonly HttpClient[] _clients;

    public Submitter(Uri api, Guid trackId, Guid[] questions, int clients)
    {
        _trackId = trackId;
        _questions = questions;
        _clients = Enumerable.Range(0, clients).Select(i =>
        {
            var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
            {
                BaseAddress = api,
                Timeout = TimeSpan.FromSeconds(60),
            };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.For($"0xbe{i:x38}"));
            return client;
        }).ToArray();
    }

    /// <summary>Submits <paramref name="attempts"/> new attempts at full speed; returns the seconds it took. Every one must answer 202.</summary>
    public async Task<double> SubmitAsync(int attempts)
    {
        var bodies = Enumerable.Range(0, attempts).Select(i => Body(Guid.NewGuid(), correct: i % (_questions.Length + 1))).ToArray();
        var next = -1;
        var watch = Stopwatch.StartNew();
        var failures = await Task.WhenAll(_clients.Select(client => Task.Run(async () =>
        {
            var failed = new List<string>();
            for (var i = Interlocked.Increment(ref next); i < bodies.Length; i = Interlocked.Increment(ref next))
            {
                using var content = new ByteArrayContent(bodies[i]);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                using var response = await client.PostAsync("/api/train-attempts/submit", content);
                if (response.StatusCode != HttpStatusCode.Accepted)
                    failed.Add($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
            return failed;
        })));
        var seconds = watch.Elapsed.TotalSeconds;
        var all = failures.SelectMany(f => f).ToList();
        if (all.Count > 0)
            throw new InvalidOperationException($"{all.Count} of {attempts} submits were not accepted; first: {all[0]}");
        return seconds;
    }

    private byte[] Body(Guid attemptId, int correct) => JsonSerializer.SerializeToUtf8Bytes(new
    {
        attemptId,
        trackId = _trackId,
        durationSec = 30 * _questions.Length,
        answers = _questions.Select((id, i) => new { questionId = id, selectedAnswer = i < correct ? $"answer-{i}" : "wrong" }),
    });

    public void Dispose()
    {
        foreach (var client in _clients)
            client.Dispose();
    }
}
