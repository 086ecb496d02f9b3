package dev.switchboard.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.config.ServerConfig;
import dev.switchboard.testing.RawHttp;
import dev.switchboard.testing.TestServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Past a limit the client gets an answer, not a reset: 503 or 429 with the error shape and {@code Retry-After}, and
 * nothing stored. A full server still serves health checks and metrics. Publish rates are per connection and per
 * caller, counted in messages (a batch counts all of its own).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ConnectionAndRateLimitsTest {
    private TestServer server;
    private final List<RawHttp> held = new ArrayList<>();

    @AfterEach
    void stop() {
        held.forEach(RawHttp::close);
        server.close();
    }

    private void start(UnaryOperator<ServerConfig> customize) {
        server = TestServer.start(customize);
    }

    /** A connection the server has certainly counted: a request on it was answered, and it stays open. */
    private RawHttp hold() {
        RawHttp c = new RawHttp(server.port(), 10_000);
        held.add(c);
        assertThat(c.write("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n").read().status()).isEqualTo(200);
        return c;
    }

    private static String publishRequest(String topic, String body, boolean close) {
        return "POST /v1/topics/" + topic + "/messages HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\n"
                + "Content-Length: " + body.length() + "\r\n" + (close ? "Connection: close\r\n" : "") + "\r\n" + body;
    }

    private static String batchRequest(String topic, int messages) {
        String body = "{\"n\":1}\n".repeat(messages);
        return "POST /v1/topics/" + topic + "/batch HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-ndjson\r\n"
                + "Content-Length: " + body.length() + "\r\n\r\n" + body;
    }

    private RawHttp.Response once(String request) {
        try (RawHttp c = new RawHttp(server.port(), 10_000)) {
            RawHttp.Response r = c.write(request).read();
            if ("close".equals(r.header("Connection"))) {
                assertThat(c.readUntilClosed()).as("nothing after a closing answer").isEmpty();
            }
            return r;
        }
    }

    private int topicStatus(String topic) {
        return server.get("/v1/topics/" + topic).statusCode();
    }

    @Test
    void aFullServerAnswers503AndStillServesHealthAndMetrics() {
        start(c -> c.withLimits(c.limits().withConnectionLimits(3, 0)));
        hold();
        hold();
        hold();
        RawHttp.Response refused = once(publishRequest("full.t", "x", false));
        assertThat(refused.status()).isEqualTo(503);
        assertThat(refused.header("Retry-After")).isEqualTo("1");
        assertThat(refused.header("Connection")).isEqualTo("close");
        assertThat(refused.body()).contains("\"code\":\"unavailable\"").contains("--max-connections");

        RawHttp.Response health = once("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n");
        assertThat(health.status()).isEqualTo(200);
        assertThat(health.header("Connection")).as("a slot past the limit is given back at once").isEqualTo("close");
        RawHttp.Response metrics = once("GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n");
        assertThat(metrics.status()).isEqualTo(200);
        assertThat(metrics.body()).contains("switchboard_connections_refused_total{reason=\"capacity\"} 3.0");

        held.removeFirst().close();
        await().atMost(Duration.ofSeconds(10)).until(() -> once(publishRequest("full.t", "x", true)).status() == 201);
        // Read on a connection already held: a new one could still find the server full while the last closes.
        String stored = held.getFirst().write("GET /v1/topics/full.t/messages?from=1 HTTP/1.1\r\nHost: localhost\r\n\r\n")
                .read().body();
        assertThat(stored).as("only the publish that was let in").contains("\"offset\":1").doesNotContain("\"offset\":2");
    }

    @Test
    void oneAddressPastItsShareGets429() {
        start(c -> c.withLimits(c.limits().withConnectionLimits(1000, 2)));
        RawHttp a = hold();
        hold();
        RawHttp.Response refused = once(publishRequest("addr.t", "x", false));
        assertThat(refused.status()).isEqualTo(429);
        assertThat(refused.header("Retry-After")).isEqualTo("1");
        assertThat(refused.body()).contains("\"code\":\"limit_exceeded\"").contains("your address");
        assertThat(a.write("GET /v1/topics/addr.t HTTP/1.1\r\nHost: localhost\r\n\r\n").read().status())
                .as("nothing stored").isEqualTo(404);
        held.removeFirst().close();
        await().atMost(Duration.ofSeconds(10)).until(() -> once(publishRequest("addr.t", "x", true)).status() == 201);
    }

    @Test
    void aConnectionPublishesAtMostItsRateAndABatchCountsEveryMessage() {
        start(c -> c.withLimits(c.limits().withPublishRates(5, 0)));
        RawHttp a = hold();
        RawHttp.Response tooMany = a.write(batchRequest("rate.t", 6)).read();
        assertThat(tooMany.status()).isEqualTo(429);
        assertThat(tooMany.header("Retry-After")).isEqualTo("1");
        assertThat(tooMany.body()).contains("\"code\":\"limit_exceeded\"").contains("--max-publish-rate");
        assertThat(topicStatus("rate.t")).isEqualTo(404);
        assertThat(a.write(batchRequest("rate.t", 5)).read().status()).isEqualTo(201);
        assertThat(hold().write(batchRequest("rate.t", 5)).read().status()).as("another connection, its own rate")
                .isEqualTo(201);
    }

    @Test
    void aCallerPublishesAtMostItsRateOverAllConnectionsAndARefusalCostsNothing() {
        start(c -> c.withLimits(c.limits().withPublishRates(10, 5)));
        RawHttp a = hold();
        RawHttp.Response tooMany = a.write(batchRequest("subject.t", 6)).read();
        assertThat(tooMany.status()).isEqualTo(429);
        assertThat(tooMany.body()).contains("--max-publish-rate-per-subject");
        assertThat(topicStatus("subject.t")).isEqualTo(404);
        // The 6 the connection's bucket gave were given back when the caller's rate refused them; else 4 would be
        // left and these 5 refused.
        assertThat(a.write(batchRequest("subject.t", 5)).read().status()).isEqualTo(201);
        RawHttp.Response metrics = once("GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n");
        assertThat(metrics.body()).contains("switchboard_publish_rate_limited_total{scope=\"subject\"} 1.0")
                .contains("switchboard_publish_rate_limited_total{scope=\"connection\"} 0.0");
    }
}
