package dev.switchboard.codec.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.testing.HandlerFixture;
import dev.switchboard.testing.TestConnection;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The head and idle timeouts on the server's own pipeline, with the loop's clock moved by the test: each deadline
 * holds to the nanosecond whichever came before it, though one timer serves both.
 */
class RequestTimeoutsTest {
    private static final Duration HEAD = Duration.ofSeconds(1);
    private static final Duration IDLE = Duration.ofSeconds(60);
    private static final Duration JUST = Duration.ofMillis(1);
    private static final byte[] HEALTH = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private HandlerFixture fixture;
    private TestConnection connection;

    @BeforeEach
    void open() {
        fixture = HandlerFixture.open(cfg -> cfg.withLimits(cfg.limits().withRequestTimeouts(HEAD, IDLE)));
        connection = fixture.connect();
    }

    @AfterEach
    void close() {
        fixture.close();
    }

    @Test
    void aConnectionThatSendsNothingIsClosedAtTheHeadTimeout() {
        advance(HEAD.minus(JUST));
        assertThat(connection.isOpen()).isTrue();
        advance(JUST);
        assertThat(connection.isOpen()).isFalse();
    }

    @Test
    void aKeepAliveConnectionIsClosedAtTheIdleTimeoutAfterItsLastAnswer() {
        answered();
        advance(IDLE.minus(JUST));
        assertThat(connection.isOpen()).isTrue();
        advance(JUST);
        assertThat(connection.isOpen()).isFalse();
    }

    @Test
    void eachAnswerRestartsTheIdleTimeout() {
        for (int i = 0; i < 3; i++) {
            answered();
            advance(IDLE.minus(JUST));
            assertThat(connection.isOpen()).as("request %d", i).isTrue();
        }
        advance(JUST);
        assertThat(connection.isOpen()).isFalse();
    }

    @Test
    void halfAHeadOnAnIdleConnectionIsClosedAtTheHeadTimeoutNotTheIdleOne() {
        answered();
        advance(IDLE.minus(Duration.ofSeconds(30)).plusMillis(300)); // off the timer's own period
        connection.send("GET /healthz HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII));
        advance(HEAD.minus(JUST));
        assertThat(connection.isOpen()).isTrue();
        advance(JUST);
        assertThat(connection.isOpen()).as("closed one head timeout after the head's first byte").isFalse();
    }

    /** A held poll's head leaves no timer armed (it is dropped when the poll is held); its answer starts the idle one. */
    @Test
    void aHeldLongPollOutlivesTheHeadTimeoutAndItsAnswerStartsTheIdleTimeout() {
        connection.send(("GET /v1/topics/held/messages?wait=5s HTTP/1.1\r\nHost: localhost\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        advance(HEAD.plus(HEAD));
        assertThat(connection.isOpen()).isTrue();
        assertThat(connection.written()).isEmpty();
        advance(Duration.ofSeconds(5));
        assertThat(new String(connection.written(), StandardCharsets.US_ASCII)).startsWith("HTTP/1.1 200 OK");
        advance(IDLE.minus(JUST));
        assertThat(connection.isOpen()).isTrue();
        advance(JUST);
        assertThat(connection.isOpen()).isFalse();
    }

    private void answered() {
        connection.send(HEALTH);
        assertThat(new String(connection.written(), StandardCharsets.US_ASCII)).startsWith("HTTP/1.1 200 OK");
    }

    private void advance(Duration d) {
        connection.advanceTimeBy(d.toNanos(), TimeUnit.NANOSECONDS);
        connection.runPendingTasks();
    }
}
