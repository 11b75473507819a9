using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Telemetry.Database;
using Telemetry.Testing;
using Xunit;

namespace Telemetry.AttemptsApi.Tests;

/// <summary>One attempts API per test class, on its own fresh database and its own RabbitMQ virtual host.</summary>
public class AttemptsApiFixture : IAsyncLifetime
{
    public const string Issuer = TestTokens.Issuer;
    public const string Audience = TestTokens.Audience;
    public const string SigningKey = TestTokens.SigningKey;
    public const string AdminKey = "test-admin-key-0123456789abcdef";

    public TestDatabase Database { get; private set; } = null!;
    public TestBroker Broker { get; private set; } = null!;
    public WebApplicationFactory<Program> Factory { get; private set; } = null!;
    public TestClock Clock { get; } = new();

    /// <summary>Settings on top of the defaults below; a derived fixture overrides some.</summary>
    protected virtual IReadOnlyDictionary<string, string?> ExtraSettings => new Dictionary<string, string?>();

    public async Task InitializeAsync()
    {
        Database = await TestDatabase.CreateAsync();
        Broker = await TestBroker.CreateAsync();
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Telemetry"] = Database.ConnectionStringFor(DatabaseRoles.AttemptsApi),
            ["ConnectionStrings:RabbitMq"] = Broker.AmqpUri,
            ["Jwt:Issuer"] = Issuer,
            ["Jwt:Audience"] = Audience,
            ["Jwt:SigningKey"] = SigningKey,
            ["AdminAuth:Key"] = AdminKey,
            ["RateLimits:PerWalletBurst"] = "10000",
            ["RateLimits:PerWalletPerMinute"] = "100000",
        };
        foreach (var (key, value) in ExtraSettings)
            settings[key] = value;
        Factory = CreateFactory(settings, services => services.AddSingleton<TimeProvider>(Clock));
        Factory.CreateClient().Dispose();
    }

    public static WebApplicationFactory<Program> CreateFactory(IReadOnlyDictionary<string, string?> settings, Action<IServiceCollection>? services = null) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            builder.UseEnvironment("Test");
            builder.UseSetting("Logging:LogLevel:Default", "Warning");
            foreach (var (key, value) in settings)
                builder.UseSetting(key, value);
            builder.UseDefaultServiceProvider(o => o.ValidateScopes = o.ValidateOnBuild = true);
            if (services is not null)
                builder.ConfigureTestServices(services);
        });

    public async Task DisposeAsync()
    {
        await Factory.DisposeAsync();
        await Broker.DisposeAsync();
        await Database.DisposeAsync();
    }

    public static string NewWallet() => "0x" + Convert.ToHexString(Guid.NewGuid().ToByteArray()).ToLowerInvariant();

    public HttpClient Learner(string wallet) => WithBearer(TestTokens.For(wallet));

    public HttpClient WithBearer(string token)
    {
        var client = Factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public HttpClient Admin()
    {
        var client = Factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Admin-Key", AdminKey);
        return client;
    }

    /// <summary>Creates a track through the admin API; question i's correct answer is "answer-i".</summary>
    public async Task<TestTrack> CreateTrackAsync(int questions = 3, int passThresholdPct = 60, int reviewBandPct = 10, int minSecondsPerQuestion = 2)
    {
        var track = new TestTrack(Guid.NewGuid(), Enumerable.Range(0, questions).Select(_ => Guid.NewGuid()).ToArray());
        using var admin = Admin();
        var response = await admin.PutAsJsonAsync($"/api/admin/tracks/{track.TrackId}", new
        {
            title = "Track " + track.TrackId.ToString("N")[..8],
            passThresholdPct,
            reviewBandPct,
            minSecondsPerQuestion,
            questions = track.QuestionIds.Select((id, i) => new { questionId = id, correctAnswer = $"answer-{i}" }),
        });
        response.EnsureSuccessStatusCode();
        return track;
    }

    public Task<long> AttemptRowsAsync(Guid attemptId) =>
        Database.ScalarAsync<long>("SELECT count(*) FROM attempts WHERE attempt_id = $1", attemptId);

    public Task<long> OutboxRowsAsync(Guid attemptId) =>
        Database.ScalarAsync<long>("SELECT count(*) FROM outbox_messages WHERE payload->>'attemptId' = $1", attemptId.ToString());

    public Task<long> LearnerRowsAsync(string wallet) =>
        Database.ScalarAsync<long>("SELECT count(*) FROM learners WHERE wallet_address = $1", wallet);
}

public sealed record TestTrack(Guid TrackId, Guid[] QuestionIds)
{
    /// <summary>A submit body answering the first <paramref name="answered"/> questions, the first <paramref name="correct"/> of them right.</summary>
    public object Body(Guid attemptId, int? answered = null, int? correct = null, int durationSec = 120) => new
    {
        attemptId,
        trackId = TrackId,
        durationSec,
        answers = QuestionIds.Take(answered ?? QuestionIds.Length).Select((id, i) => new
        {
            questionId = id,
            selectedAnswer = i < (correct ?? QuestionIds.Length) ? $"answer-{i}" : "wrong",
        }),
    };
}

/// <summary>The system clock unless a test pins the time; timers stay real.</summary>
public sealed class TestClock : TimeProvider
{
    public DateTimeOffset? Now { get; set; }

    public override DateTimeOffset GetUtcNow() => Now ?? base.GetUtcNow();
}
