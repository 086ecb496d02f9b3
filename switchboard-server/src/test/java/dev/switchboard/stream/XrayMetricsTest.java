package dev.switchboard.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.config.SocketOptions;
import dev.switchboard.testing.PrometheusText;
import dev.switchboard.testing.Closer;
import dev.switchboard.testing.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code /metrics} read as a scraper reads it ({@link PrometheusText}): the x-ray's counters move by exactly what the
 * test sends and receives, per transport, and the stage histograms fill (or are absent with stage timing off).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class XrayMetricsTest {
    private static final String TOPIC = "xray.metrics";

    @RegisterExtension
    final Closer open = new Closer();
    private TestServer server;

    private PrometheusText scrape() {
        HttpResponse<String> r = server.get("/metrics");
        assertThat(r.statusCode()).isEqualTo(200);
        return PrometheusText.parse(r.body());
    }

    private static double of(PrometheusText p, String name, String transport) {
        return p.value(name, "transport", transport);
    }

    @Test
    void countersMoveByExactlyWhatTheTestSendsAndReceives() throws Exception {
        // every event timed; no heartbeat or ping adds bytes while the test counts them
        server = open.add(TestServer.start(c -> c.withStageSample(1).withSseHeartbeat(Duration.ofMinutes(10))
                .withWsPingInterval(Duration.ofMinutes(10))));
        StreamFixtures.publish(server, TOPIC, "exists");
        PrometheusText before = scrape();
        assertThat(before.type("switchboard_connections")).isEqualTo("gauge");
        assertThat(before.type("switchboard_messages_out_total")).isEqualTo("counter");
        assertThat(before.type("switchboard_stage_seconds")).isEqualTo("histogram");

        Socket sseSocket = new Socket("127.0.0.1", server.port());
        open.add(sseSocket);
        byte[] request = ("GET /v1/topics/" + TOPIC + "/events HTTP/1.1\r\nHost: localhost\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        sseSocket.getOutputStream().write(request);
        Received sse = Received.readInBackground(sseSocket.getInputStream());
        // A WebSocket read as bytes: everything the server wrote to it, handshake answer included, is counted.
        Socket wsSocket = new Socket("127.0.0.1", server.port());
        open.add(wsSocket);
        wsSocket.getOutputStream().write(("GET /v1/ws?subscribe=" + TOPIC + " HTTP/1.1\r\nHost: localhost\r\n"
                + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                + "Sec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        Received ws = Received.readInBackground(wsSocket.getInputStream());
        await().atMost(Duration.ofSeconds(10)).until(() -> StreamFixtures.subscribers(server, TOPIC, "sse") == 1
                && StreamFixtures.subscribers(server, TOPIC, "ws") == 1);
        PrometheusText subscribed = scrape();
        assertThat(of(subscribed, "switchboard_connections", "sse")).isEqualTo(1);
        assertThat(of(subscribed, "switchboard_connections", "ws")).isEqualTo(1);
        double storesBefore = subscribed.value("switchboard_stage_seconds_count", "stage", "store");

        int published = 7;
        for (int i = 0; i < published; i++) {
            StreamFixtures.publish(server, TOPIC, "m" + i);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> sse.text().split("event: message", -1).length - 1
                == published);

        PrometheusText after = await().atMost(Duration.ofSeconds(10)).until(this::scrape,
                p -> of(p, "switchboard_messages_out_total", "ws") == of(before, "switchboard_messages_out_total", "ws")
                        + published);
        // Message frames skip the x-ray's handler on their way to the socket (BurstWriter.below) yet are counted.
        await().atMost(Duration.ofSeconds(10)).until(() -> ws.text().split("\"op\":\"message\"", -1).length - 1
                == published);
        assertThat(of(after, "switchboard_bytes_out_total", "ws"))
                .isEqualTo(of(before, "switchboard_bytes_out_total", "ws") + ws.bytes());
        assertThat(of(after, "switchboard_messages_in_total", "http"))
                .isEqualTo(of(before, "switchboard_messages_in_total", "http") + published);
        assertThat(of(after, "switchboard_messages_out_total", "sse"))
                .isEqualTo(of(before, "switchboard_messages_out_total", "sse") + published);
        // Everything the SSE client read, response head included, and nothing it sent: its request was read while
        // the connection was still plain HTTP.
        assertThat(of(after, "switchboard_bytes_out_total", "sse"))
                .isEqualTo(of(before, "switchboard_bytes_out_total", "sse") + sse.bytes());
        assertThat(of(after, "switchboard_bytes_in_total", "sse")).isEqualTo(of(before, "switchboard_bytes_in_total",
                "sse"));
        assertThat(after.value("switchboard_stage_seconds_count", "stage", "store"))
                .isEqualTo(storesBefore + published);
        assertThat(after.value("switchboard_stage_seconds_count", "stage", "decode")).isGreaterThanOrEqualTo(published);
        for (String stage : List.of("read", "fanout", "write")) {
            assertThat(after.value("switchboard_stage_seconds_count", "stage", stage)).as(stage).isPositive();
        }
        assertThat(after.value("switchboard_stage_seconds_bucket", "stage", "store", "le", "+Inf"))
                .isEqualTo(after.value("switchboard_stage_seconds_count", "stage", "store"));

        // A held long poll counts as one, as a connection and as a poll.
        Socket poll = new Socket("127.0.0.1", server.port());
        open.add(poll);
        poll.getOutputStream().write(("GET /v1/topics/" + TOPIC + "/messages?from=next&wait=60s HTTP/1.1\r\n"
                + "Host: localhost\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        PrometheusText held = await().atMost(Duration.ofSeconds(10)).until(this::scrape,
                p -> p.value("switchboard_long_polls") == 1);
        assertThat(of(held, "switchboard_connections", "longpoll")).isEqualTo(1);
        StreamFixtures.publish(server, TOPIC, "wake");
        PrometheusText answered = await().atMost(Duration.ofSeconds(10)).until(this::scrape,
                p -> p.value("switchboard_long_polls") == 0 && of(p, "switchboard_connections", "longpoll") == 0);
        assertThat(of(answered, "switchboard_messages_out_total", "longpoll"))
                .isEqualTo(of(before, "switchboard_messages_out_total", "longpoll") + 1);

        // each loop is probed once a second; the batch policy fsyncs every 100 ms
        PrometheusText probed = await().atMost(Duration.ofSeconds(5)).until(this::scrape,
                p -> p.value("switchboard_event_loop_lag_seconds_count") > 0);
        assertThat(probed.value("switchboard_log_fsync_seconds_count")).isPositive();
        assertThat(probed.has("jvm_memory_used_bytes")).isTrue();
        assertThat(probed.type("jvm_gc_collection_seconds_total")).isEqualTo("counter");
        assertThat(probed.value("switchboard_netty_direct_memory_bytes")).isNotNegative();
    }

    @Test
    void aReaderThatStopsIsClosedAsASlowConsumerAndCounted() throws Exception {
        SocketOptions d = SocketOptions.defaults();
        server = open.add(TestServer.start(c -> c.withLimits(c.limits().withSlowConsumerTimeout(Duration.ofMillis(300)))
                .withSocket(new SocketOptions(true, 16 * 1024, 0, d.backlog(), d.writeLowWaterMark(),
                        d.writeHighWaterMark()))));
        StreamFixtures.publish(server, TOPIC, "exists");
        RawWebSocket stalled = RawWebSocket.connect(server.port(), "/v1/ws?subscribe=" + TOPIC, 4096);
        open.add(stalled);
        await().atMost(Duration.ofSeconds(10)).until(() -> StreamFixtures.subscribers(server, TOPIC, "ws") == 1);
        String line = "\"" + "x".repeat(1022) + "\"\n";
        for (int i = 0; i < 4; i++) {
            HttpResponse<String> r = server.post("/v1/topics/" + TOPIC + "/batch", "application/x-ndjson",
                    line.repeat(128));
            assertThat(r.statusCode()).isEqualTo(201);
        }
        PrometheusText p = await().atMost(Duration.ofSeconds(10)).until(this::scrape,
                s -> of(s, "switchboard_slow_consumer_closes_total", "ws") == 1);
        assertThat(of(p, "switchboard_slow_consumer_closes_total", "sse")).isZero();
    }

    @Test
    void stageTimingOffHasNoStageHistograms() {
        server = open.add(TestServer.start(c -> c.withStageSample(0)));
        StreamFixtures.publish(server, TOPIC, "one");
        PrometheusText p = scrape();
        assertThat(p.has("switchboard_stage_seconds_count")).isFalse();
        assertThat(of(p, "switchboard_messages_in_total", "http")).isEqualTo(1);
    }

    private HttpResponse<String> setStageSample(String every) {
        return server.send(HttpRequest.newBuilder(server.uri("/v1/admin/stage-sample?every=" + every))
                .PUT(HttpRequest.BodyPublishers.noBody()).build());
    }

    private double storesTimed() {
        return scrape().value("switchboard_stage_seconds_count", "stage", "store");
    }

    @Test
    void stageTimingIsTurnedOffAndOnAtRunTimeAndBadValuesChangeNothing() {
        server = open.add(TestServer.start(c -> c.withStageSample(1)));
        assertThat(server.get("/v1/admin/stage-sample").body()).isEqualTo("{\"every\":1}");
        StreamFixtures.publish(server, TOPIC, "timed");
        double timed = storesTimed();
        assertThat(timed).isPositive();

        assertThat(setStageSample("0").body()).isEqualTo("{\"every\":0}");
        for (int i = 0; i < 5; i++) {
            StreamFixtures.publish(server, TOPIC, "untimed" + i);
        }
        assertThat(storesTimed()).as("nothing timed while off").isEqualTo(timed);

        for (String bad : new String[] {"-1", "x", "1000001", ""}) {
            HttpResponse<String> r = setStageSample(bad);
            assertThat(r.statusCode()).as("every=%s", bad).isEqualTo(400);
            assertThat(r.body()).contains("\"code\":\"invalid_query\"");
        }
        assertThat(server.get("/v1/admin/stage-sample").body()).isEqualTo("{\"every\":0}");

        assertThat(setStageSample("1").statusCode()).isEqualTo(200);
        StreamFixtures.publish(server, TOPIC, "timed again");
        assertThat(storesTimed()).isEqualTo(timed + 1);
    }

    @Test
    void aServerStartedWithoutStageTimingCannotTurnItOn() {
        server = open.add(TestServer.start(c -> c.withStageSample(0)));
        HttpResponse<String> r = setStageSample("64");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.body()).contains("--stage-sample 0");
        assertThat(server.get("/v1/admin/stage-sample").body()).isEqualTo("{\"every\":0}");
        assertThat(scrape().has("switchboard_stage_seconds_count")).isFalse();
    }

    /** What a socket delivered, read on a thread of its own until it closes. */
    private static final class Received {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        static Received readInBackground(InputStream in) {
            Received r = new Received();
            Thread.ofPlatform().daemon().start(() -> {
                byte[] buf = new byte[8192];
                try {
                    for (int n; (n = in.read(buf)) > 0; ) {
                        synchronized (r) {
                            r.bytes.write(buf, 0, n);
                        }
                    }
                } catch (IOException closed) {
                    // the test closed the socket
                }
            });
            return r;
        }

        synchronized long bytes() {
            return bytes.size();
        }

        synchronized String text() {
            return bytes.toString(StandardCharsets.UTF_8);
        }
    }
}
