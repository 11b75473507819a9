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

    [Fact]
    public void Several_uris_are_the_nodes_of_one_cluster_the_first_answering_for_host_and_port()
    {
        var address = RabbitMqAddress.Parse("amqp://svc:pw@10.0.0.1:5672/telemetry, amqp://svc:pw@10.0.0.2:5673/telemetry,amqp://svc:pw@10.0.0.3/telemetry");

        Assert.Equal(("10.0.0.1", (ushort)5672, "telemetry"), (address.Host, address.Port, address.VirtualHost));
        Assert.Equal(["10.0.0.1:5672", "10.0.0.2:5673", "10.0.0.3:5672"], address.ClusterNodes);
        Assert.Equal(["10.0.0.1:5672", "10.0.0.2:5673", "10.0.0.3:5672"], address.Endpoints.Select(e => $"{e.HostName}:{e.Port}"));
    }

    [Theory]
    [InlineData("amqp://svc:pw@a:5672/telemetry,amqp://svc:other@b:5672/telemetry")]
    [InlineData("amqp://svc:pw@a:5672/telemetry,amqp://svc:pw@b:5672/other")]
    public void Cluster_nodes_must_share_credentials_and_virtual_host(string value) =>
        Assert.Contains("must agree", Assert.Throws<InvalidOperationException>(() => RabbitMqAddress.Parse(value)).Message);
}
