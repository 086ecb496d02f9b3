package dev.switchboard.stream;

import static dev.switchboard.stream.StreamFixtures.json;
import static dev.switchboard.stream.StreamFixtures.publish;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.config.IoMode;
import dev.switchboard.config.SocketOptions;
import dev.switchboard.testing.PrometheusText;
import dev.switchboard.testing.Closer;
import dev.switchboard.testing.TestServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code GET /v1/admin/connections} on every event-loop engine, against real sockets whose state the test controls:
 * the listing names each of the test's connections with its transport and subscriptions, a reader that stops reading
 * shows its bytes piling up in the kernel's send queue while the server's own queue stays bounded, and both drain
 * once it reads again; a server without {@code TCP_NODELAY} shows it.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SocketXrayTest {
    private static final String TOPIC = "xray.stalled";
    private static final int MESSAGE_BYTES = 1024;
    /** What the server may hold in user space for a paused subscriber: the high-water mark, one coalesced chunk
     *  (written before writability is checked again) and one message. */
    private static final long USER_SPACE_BOUND = SocketOptions.defaults().writeHighWaterMark() + 32 * 1024
            + MESSAGE_BYTES + 64;

    @RegisterExtension
    final Closer open = new Closer();
    private TestServer server;

    @ParameterizedTest
    @EnumSource(value = IoMode.class, names = {"IO_URING", "EPOLL", "NIO"})
    void listsEachConnectionWithItsTransportSubscriptionsAndKernelView(IoMode io) throws Exception {
        server = open.add(TestServer.start(c -> c.withIo(io)));
        publish(server, TOPIC, "one");
        publish(server, TOPIC, "two");
        RawWebSocket ws = RawWebSocket.connect(server.port(), "/v1/ws?subscribe=" + TOPIC + "&from=earliest", 0);
        open.add(ws);
        Socket sse = rawRequest("GET /v1/topics/" + TOPIC + "/events?from=1 HTTP/1.1\r\nHost: localhost\r\n\r\n");
        Socket poll = rawRequest("GET /v1/topics/xray.empty/messages?from=1&wait=60s HTTP/1.1\r\nHost: localhost\r\n\r\n");

        JsonNode wsView = await().atMost(Duration.ofSeconds(10)).until(() -> find(ws.socket()),
                v -> v != null && v.path("messagesOut").asLong() == 2);
        JsonNode sseView = await().atMost(Duration.ofSeconds(10)).until(() -> find(sse),
                v -> v != null && v.path("messagesOut").asLong() == 2);
        JsonNode pollView = await().atMost(Duration.ofSeconds(10)).until(() -> find(poll),
                v -> v != null && v.path("transport").asText().equals("longpoll"));
        // The peer's kernel acknowledges what it received, read or not (a delayed ACK takes up to 40 ms).
        await().atMost(Duration.ofSeconds(5)).until(() -> find(ws.socket()).at("/kernel/sendQueueBytes").asLong()
                + find(sse).at("/kernel/sendQueueBytes").asLong() == 0);

        assertThat(wsView.get("transport").asText()).isEqualTo("ws");
        assertThat(wsView.at("/subscriptions/0/topic").asText()).isEqualTo(TOPIC);
        assertThat(wsView.at("/subscriptions/0/next").asLong()).isEqualTo(3);
        assertThat(wsView.at("/subscriptions/0/lag").asLong()).isZero();
        assertThat(sseView.get("transport").asText()).isEqualTo("sse");
        assertThat(sseView.at("/subscriptions/0/next").asLong()).isEqualTo(3);
        assertThat(pollView.get("messagesOut").asLong()).isZero();
        assertThat(pollView.at("/subscriptions/0/topic").asText()).as("a held poll waits on its topic")
                .isEqualTo("xray.empty");
        assertThat(pollView.at("/subscriptions/0/next").asLong()).isEqualTo(1);
        for (JsonNode v : List.of(wsView, sseView, pollView)) {
            assertThat(v.get("bytesIn").asLong()).as("the request bytes").isPositive();
            assertThat(v.get("queuedBytes").asLong()).isZero();
            assertThat(v.get("writable").asBoolean()).isTrue();
            assertThat(v.get("since").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
            JsonNode k = v.get("kernel");
            assertThat(k.get("tcpNoDelay").asBoolean()).isTrue();
            assertThat(k.get("sndBuf").asInt()).isPositive();
            assertThat(k.get("rcvBuf").asInt()).isPositive();
            assertThat(k.get("sendQueueBytes").isNumber()).isTrue();
            assertThat(k.get("recvQueueBytes").asLong()).as("the server read everything").isZero();
            if (io == IoMode.NIO) {
                assertThat(k.get("rttMicros").isNull()).as("NIO exposes no descriptor for TCP_INFO").isTrue();
            } else {
                assertThat(k.get("rttMicros").asLong()).isPositive();
                assertThat(k.get("cwnd").asLong()).isPositive();
                assertThat(k.get("pmtu").asLong()).isPositive();
                assertThat(k.get("sndMss").asLong()).isPositive();
                assertThat(k.get("totalRetransmits").asLong()).isZero();
            }
        }

        JsonNode all = json(server.get("/v1/admin/connections").body());
        assertThat(all.get("engine").asText()).isEqualTo(io.name().toLowerCase());
        assertThat(all.get("total").asInt()).isEqualTo(all.get("connections").size()).isGreaterThanOrEqualTo(4);
        long id = wsView.get("id").asLong();
        HttpResponse<String> one = server.get("/v1/admin/connections/" + id);
        assertThat(one.statusCode()).isEqualTo(200);
        assertThat(json(one.body()).get("transport").asText()).isEqualTo("ws");
        HttpResponse<String> gone = server.get("/v1/admin/connections/999999");
        assertThat(gone.statusCode()).isEqualTo(404);
        assertThat(json(gone.body()).at("/error/code").asText()).isEqualTo("not_found");
        assertThat(server.get("/v1/admin/connections?limit=0").statusCode()).isEqualTo(400);
        assertThat(json(server.get("/v1/admin/connections?limit=1").body()).get("connections").size()).isEqualTo(1);

        publish(server, "xray.empty", "wakes the poll");
        JsonNode answered = await().atMost(Duration.ofSeconds(10)).until(() -> find(poll),
                v -> v != null && v.path("messagesOut").asLong() == 1);
        assertThat(answered.get("transport").asText()).isEqualTo("http");
        assertThat(answered.get("subscriptions")).as("an answered poll holds no topic").isEmpty();
    }

    @ParameterizedTest
    @EnumSource(value = IoMode.class, names = {"IO_URING", "EPOLL", "NIO"})
    void stalledReaderFillsTheKernelSendQueueWhileTheServerQueueStaysBoundedThenBothDrain(IoMode io)
            throws Exception {
        // A fixed 64 KiB send buffer: autotuned, the kernel would take the whole test's 4 MiB before the server
        // had to hold anything back.
        SocketOptions d = SocketOptions.defaults();
        server = open.add(TestServer.start(c -> c.withIo(io).withLimits(c.limits().withSlowConsumerTimeout(
                Duration.ofMinutes(10))).withWsPingInterval(Duration.ofMinutes(10)).withSocket(new SocketOptions(
                        true, 64 * 1024, 0, d.backlog(), d.writeLowWaterMark(), d.writeHighWaterMark()))));
        publish(server, TOPIC, "first");
        RawWebSocket stalled = RawWebSocket.connect(server.port(), "/v1/ws?subscribe=" + TOPIC + "&from=earliest",
                4096);
        open.add(stalled);
        await().atMost(Duration.ofSeconds(10)).until(() -> find(stalled.socket()),
                v -> v != null && v.path("messagesOut").asLong() == 1);

        long published = 1 + publishBatches(2048);
        JsonNode piledUp = await().atMost(Duration.ofSeconds(30)).until(() -> find(stalled.socket()),
                v -> !v.get("writable").asBoolean() && v.at("/kernel/sendQueueBytes").asLong() > 16 * 1024);
        long sendQueue = piledUp.at("/kernel/sendQueueBytes").asLong();
        assertThat(piledUp.get("queuedBytes").asLong()).isPositive().isLessThanOrEqualTo(USER_SPACE_BOUND);
        assertThat(piledUp.get("unwritableCount").asLong()).isPositive();
        assertThat(piledUp.at("/subscriptions/0/lag").asLong()).as("paused at its offset").isPositive();
        await().atMost(Duration.ofSeconds(10)).until(() -> cursorLag("max") > 0 && cursorLag("sum") > 0);

        // Twice as much again: the kernel holds what it can, the server still holds no more than its bound.
        published += publishBatches(2048);
        // The kernel's queue stays full, give or take what the peer's growing receive buffer took meanwhile.
        JsonNode later = await().atMost(Duration.ofSeconds(30)).until(() -> find(stalled.socket()),
                v -> v.at("/subscriptions/0/lag").asLong() > 2048);
        assertThat(later.at("/kernel/sendQueueBytes").asLong()).isGreaterThan(16 * 1024);
        assertThat(later.get("queuedBytes").asLong()).isLessThanOrEqualTo(USER_SPACE_BOUND);
        System.out.printf("%s: stalled reader: kernel send queue %d then %d bytes, user space %d then %d bytes%n",
                io, sendQueue, later.at("/kernel/sendQueueBytes").asLong(), piledUp.get("queuedBytes").asLong(),
                later.get("queuedBytes").asLong());

        // The reader reads again: it gets everything, and both queues drain.
        stalled.setReadTimeout(30_000);
        long expected = 1;
        while (expected <= published) {
            RawWebSocket.Frame f = stalled.readFrame();
            JsonNode m = json(f.payload());
            if (m.get("op").asText().equals("message")) {
                assertThat(m.get("offset").asLong()).isEqualTo(expected++);
            }
        }
        JsonNode drained = await().atMost(Duration.ofSeconds(10)).until(() -> find(stalled.socket()),
                v -> v.at("/kernel/sendQueueBytes").asLong() == 0 && v.get("queuedBytes").asLong() == 0);
        assertThat(drained.get("writable").asBoolean()).isTrue();
        assertThat(drained.get("unwritableMillis").asLong()).isZero();
        assertThat(drained.at("/subscriptions/0/lag").asLong()).isZero();
        assertThat(drained.get("messagesOut").asLong()).isEqualTo(published);
        await().atMost(Duration.ofSeconds(10)).until(() -> cursorLag("max") == 0);
    }

    @Test
    void aStalledReaderCatchingUpFromTheStoreIsHeldToTheSameBound() throws Exception {
        // A 64 KiB tail: a subscriber from the earliest offset reads 256 messages at a time from the store, and
        // must still not take more of a read than its socket accepts.
        SocketOptions d = SocketOptions.defaults();
        server = open.add(TestServer.start(c -> c.withLimits(c.limits().withSlowConsumerTimeout(Duration.ofMinutes(10))
                .withTailCacheBytes(64 * 1024)).withWsPingInterval(Duration.ofMinutes(10)).withSocket(
                        new SocketOptions(true, 64 * 1024, 0, d.backlog(), d.writeLowWaterMark(),
                                d.writeHighWaterMark()))));
        long published = publishBatches(2048);
        RawWebSocket stalled = RawWebSocket.connect(server.port(), "/v1/ws?subscribe=" + TOPIC + "&from=earliest",
                4096);
        open.add(stalled);
        JsonNode piledUp = await().atMost(Duration.ofSeconds(30)).until(() -> find(stalled.socket()),
                v -> v != null && !v.get("writable").asBoolean()
                        && v.at("/kernel/sendQueueBytes").asLong() > 16 * 1024);
        assertThat(piledUp.get("queuedBytes").asLong()).isPositive().isLessThanOrEqualTo(USER_SPACE_BOUND);
        assertThat(piledUp.at("/subscriptions/0/lag").asLong()).as("paused at its offset").isPositive();

        stalled.setReadTimeout(30_000);
        long expected = 1;
        while (expected <= published) {
            JsonNode m = json(stalled.readFrame().payload());
            if (m.get("op").asText().equals("message")) {
                assertThat(m.get("offset").asLong()).isEqualTo(expected++);
            }
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> find(stalled.socket()),
                v -> v.get("queuedBytes").asLong() == 0 && v.at("/subscriptions/0/lag").asLong() == 0);
    }

    @ParameterizedTest
    @EnumSource(value = IoMode.class, names = {"IO_URING", "EPOLL", "NIO"})
    void aServerWithoutTcpNoDelayShowsIt(IoMode io) throws Exception {
        SocketOptions d = SocketOptions.defaults();
        server = open.add(TestServer.start(c -> c.withIo(io).withSocket(new SocketOptions(false, d.sendBuffer(),
                d.receiveBuffer(), d.backlog(), d.writeLowWaterMark(), d.writeHighWaterMark()))));
        Socket idle = rawRequest("");
        JsonNode v = await().atMost(Duration.ofSeconds(10)).until(() -> find(idle), n -> n != null);
        assertThat(v.at("/kernel/tcpNoDelay").asBoolean()).isFalse();
        assertThat(v.get("transport").asText()).isEqualTo("http");
    }

    /** {@code switchboard_cursor_lag{stat=…}} as a scraper reads it. */
    private double cursorLag(String stat) {
        return PrometheusText.parse(server.get("/metrics").body()).value("switchboard_cursor_lag", "stat", stat);
    }

    /** Publishes {@code count} messages of {@link #MESSAGE_BYTES} in batches; returns how many were stored. */
    private long publishBatches(int count) {
        String line = "\"" + "x".repeat(MESSAGE_BYTES - 2) + "\"\n";
        int stored = 0;
        while (stored < count) {
            int n = Math.min(256, count - stored);
            HttpResponse<String> r = server.post("/v1/topics/" + TOPIC + "/batch", "application/x-ndjson",
                    line.repeat(n));
            assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
            stored += n;
        }
        return stored;
    }

    /** A connection that sent {@code request} and reads nothing. */
    private Socket rawRequest(String request) throws IOException {
        Socket s = new Socket("127.0.0.1", server.port());
        open.add(s);
        OutputStream out = s.getOutputStream();
        out.write(request.getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return s;
    }

    /** The server's view of the connection whose client end is {@code client}, or null while it has none. */
    private JsonNode find(Socket client) {
        String remote = "127.0.0.1:" + client.getLocalPort();
        for (JsonNode c : json(server.get("/v1/admin/connections").body()).get("connections")) {
            if (c.get("remote").asText().equals(remote)) {
                return c;
            }
        }
        return null;
    }
}
