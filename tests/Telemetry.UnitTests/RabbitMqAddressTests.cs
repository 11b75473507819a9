using Telemetry.ServiceDefaults;
using Xunit;

namespace Telemetry.UnitTests;

public sealed class RabbitMqAddressTests
{
    [Fact]
    public void An_amqp_uri_yields_host_port_virtual_host_and_unescaped_credentials() =>
        Assert.Equal(
            new RabbitMqAddress("127.0.0.1", 55672, "telemetry", "svc", "p@ss:word"),
            RabbitMqAddress.Parse("amqp://svc:p%40ss%3Aword@127.0.0.1:55672/telemetry"));

    [Fact]
    public void No_path_means_the_default_virtual_host() =>
        Assert.Equal("/", RabbitMqAddress.Parse("amqp://u:p@localhost/").VirtualHost);

    [Theory]
    [InlineData("not a uri")]
    [InlineData("http://u:p@localhost:5672/")]
    public void Anything_but_an_amqp_uri_is_a_clear_startup_error(string value) =>
        Assert.Contains("amqp://", Assert.Throws<InvalidOperationException>(() => RabbitMqAddress.Parse(value)).Message);
}
