package dev.switchboard.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.testing.TestServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

/** A short {@code bench client} run against a real server: every publish answered, every subscription complete. */
class ClientBenchmarkTest {
    @AutoClose
    private final TestServer server = TestServer.start();

    @Test
    void measuresPublishesAndEveryTransport() throws Exception {
        ClientBenchmark.Report report = new ClientBenchmark(new ClientBenchmark.Config(server.url(), 10, 300, 16, 8),
                new PrintWriter(new StringWriter(), true)).run();
        assertThat(report.errorSamples()).as(report.toText()).isEmpty();
        assertThat(report.blockingPublishesPerSecond()).isPositive();
        assertThat(report.asyncPublishesPerSecond()).isPositive();
        assertThat(report.subscriptionMessagesPerSecond()).containsOnlyKeys("websocket", "sse", "long_poll")
                .allSatisfy((transport, rate) -> assertThat(rate).as(transport).isPositive());
        assertThat(report.toText()).contains("publish     async").contains("subscribe   long_poll");
    }
}
