package dev.switchboard.codec.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.testing.HandlerFixture;
import dev.switchboard.testing.TestConnection;
import io.micrometer.core.instrument.Gauge;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@code GET /metrics} is built off the connection's event loop, which keeps serving meanwhile, and answered on it. */
class MetricsEndpointTest {
    private static final byte[] METRICS = "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII);

    private final HandlerFixture fixture = HandlerFixture.open();

    @AfterEach
    void close() {
        fixture.close();
    }

    @Test
    void theScrapeRunsOffTheEventLoopAndItsTextIsTheAnswer() {
        AtomicReference<Thread> readOn = new AtomicReference<>();
        Gauge.builder("test.scraped", () -> {
            readOn.set(Thread.currentThread());
            return 42;
        }).register(fixture.metrics());
        TestConnection connection = fixture.connect();
        StringBuilder answer = new StringBuilder();

        connection.send(METRICS);
        connection.runUntil(() -> answer.append(new String(connection.written(), StandardCharsets.UTF_8))
                .indexOf("test_scraped 42") >= 0);

        assertThat(answer.toString()).startsWith("HTTP/1.1 200 OK").contains("text/plain; version=0.0.4");
        assertThat(readOn.get()).isNotNull().isNotSameAs(Thread.currentThread());
        assertThat(connection.eventLoop().inEventLoop(readOn.get())).isFalse();
    }
}
