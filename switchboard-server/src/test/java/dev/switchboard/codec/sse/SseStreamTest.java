package dev.switchboard.codec.sse;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.testing.Chunked;
import dev.switchboard.testing.HandlerFixture;
import dev.switchboard.testing.TestConnection;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An SSE stream on the server's own pipeline, without sockets, as bytes on the wire: the response head, then the
 * chunked body whose chunks carry the events. Time is the embedded loop's, moved by the test, so heartbeats, request
 * timeouts and the slow-consumer timeout are exact.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SseStreamTest {
    private static final Duration HEARTBEAT = Duration.ofSeconds(15);
    private static final Duration HEADER_TIMEOUT = Duration.ofSeconds(1);
    private static final Duration IDLE_TIMEOUT = Duration.ofSeconds(2);
    private static final Duration SLOW_CONSUMER = Duration.ofSeconds(5);
    private static final String HEARTBEAT_COMMENT = ": heartbeat\n\n";

    private HandlerFixture fixture;

    /** An origin allowed to read streams from its pages. */
    private static final String PAGE = "http://page.example";

    @BeforeEach
    void open() {
        fixture = HandlerFixture.open(cfg -> cfg.withCorsOrigins(List.of(PAGE)).withSseHeartbeat(HEARTBEAT).withLimits(cfg.limits()
                .withRequestTimeouts(HEADER_TIMEOUT, IDLE_TIMEOUT).withSlowConsumerTimeout(SLOW_CONSUMER)));
    }

    @AfterEach
    void close() {
        fixture.close();
    }

    /** One connection as a client reads it: the response head, then the body as it arrives. */
    private final class Reader {
        final TestConnection connection = fixture.connect();
        final String statusLine;
        final Map<String, String> headers = new LinkedHashMap<>();
        private String unread;

        Reader(String request) {
            connection.send(request.getBytes(StandardCharsets.US_ASCII));
            String all = text(connection.written());
            int end = all.indexOf("\r\n\r\n");
            assertThat(end).as("a response head in %s", all).isPositive();
            List<String> lines = List.of(all.substring(0, end).split("\r\n"));
            statusLine = lines.getFirst();
            for (String line : lines.subList(1, lines.size())) {
                int colon = line.indexOf(':');
                headers.put(line.substring(0, colon).toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
            }
            unread = all.substring(end + 4);
        }

        /** The body bytes that arrived since the last call, as they are on the wire. */
        String body() {
            String s = unread + text(connection.written());
            unread = "";
            return s;
        }

        /** Waits for body bytes (from the broker's threads) and returns them. */
        String nextBody() {
            connection.runUntil(() -> {
                unread += text(connection.written());
                return !unread.isEmpty();
            });
            return body();
        }

        /** Moves the connection's clock on and runs what fell due. */
        void advance(Duration d) {
            connection.advanceTimeBy(d.toNanos(), TimeUnit.NANOSECONDS);
            connection.runPendingTasks();
        }
    }

    private Reader stream(String pathAndQuery) {
        return new Reader("GET " + pathAndQuery + " HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n");
    }

    private static String text(byte[] bytes) {
        return new String(bytes, StandardCharsets.ISO_8859_1);
    }

    /** {@code data} as one chunk of a chunked body (RFC 9112 7.1). */
    private static String chunk(String data) {
        return Integer.toHexString(data.length()) + "\r\n" + data + "\r\n";
    }

    private static String event(long id, String data) {
        return "id: " + id + "\nevent: message\ndata: " + data + "\n\n";
    }

    @Test
    void theResponseIsAChunkedEventStreamAndEachBurstOfEventsIsOneChunk() {
        fixture.publish("sse.t", "a");
        fixture.publish("sse.t", "two\nlines");
        Reader r = new Reader("GET /v1/topics/sse.t/events?from=earliest HTTP/1.1\r\nHost: localhost\r\n"
                + "Origin: http://page.example\r\n\r\n");
        assertThat(r.statusLine).isEqualTo("HTTP/1.1 200 OK");
        assertThat(r.headers).containsEntry("content-type", "text/event-stream; charset=utf-8")
                .containsEntry("cache-control", "no-cache")
                .containsEntry("x-accel-buffering", "no")
                .containsEntry("transfer-encoding", "chunked")
                .containsEntry("connection", "close")
                .containsEntry("access-control-allow-origin", PAGE)
                .doesNotContainKey("content-length");
        assertThat(r.nextBody()).as("the stored events, read from the store and sent as one burst")
                .isEqualTo(chunk(event(1, "a") + "id: 2\nevent: message\ndata: two\ndata: lines\n\n"));

        fixture.publish("sse.t", "live");
        assertThat(r.nextBody()).isEqualTo(chunk(event(3, "live")));
        assertThat(r.connection.isOpen()).isTrue();
    }

    @Test
    void heartbeatsFillTheIntervalsWithNothingElseSent() {
        fixture.publish("sse.quiet", "old");
        Reader r = stream("/v1/topics/sse.quiet/events");
        assertThat(r.body()).as("from next: nothing stored is sent").isEmpty();
        r.advance(HEARTBEAT.minusMillis(1));
        assertThat(r.body()).isEmpty();
        r.advance(Duration.ofMillis(1));
        assertThat(r.body()).isEqualTo(chunk(HEARTBEAT_COMMENT));

        fixture.publish("sse.quiet", "news");
        assertThat(r.nextBody()).isEqualTo(chunk(event(2, "news")));
        r.advance(HEARTBEAT);
        assertThat(r.body()).as("an interval with an event needs no heartbeat").isEmpty();
        r.advance(HEARTBEAT);
        assertThat(r.body()).isEqualTo(chunk(HEARTBEAT_COMMENT));
    }

    @Test
    void theRequestTimeoutsLeaveAStreamAlone() {
        Reader idle = new Reader("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n");
        assertThat(idle.statusLine).isEqualTo("HTTP/1.1 200 OK");
        Reader r = stream("/v1/topics/sse.long/events");

        r.advance(Duration.ofMinutes(10));
        idle.advance(Duration.ofMinutes(10));
        assertThat(idle.connection.isOpen()).as("a keep-alive connection with nothing in flight times out").isFalse();
        assertThat(r.connection.isOpen()).as("the stream outlives the header and idle timeouts").isTrue();
        assertThat(r.body()).isEqualTo(chunk(HEARTBEAT_COMMENT).repeat(40));
        fixture.publish("sse.long", "still here");
        assertThat(r.nextBody()).isEqualTo(chunk(event(1, "still here")));
    }

    @Test
    void requestsBehindAStreamAreNotServedAndWhatTheClientSendsIsReleased() {
        fixture.publish("sse.p", "m1");
        Reader r = new Reader("GET /v1/topics/sse.p/events?from=1 HTTP/1.1\r\nHost: localhost\r\n\r\n"
                + "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n");
        assertThat(r.nextBody()).as("the event, and no answer to the request behind the stream")
                .isEqualTo(chunk(event(1, "m1")));

        List<String> later = List.of(
                "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n",
                "OPTIONS /v1/topics/sse.p HTTP/1.1\r\nHost: localhost\r\nOrigin: http://page.example\r\n"
                        + "Access-Control-Request-Method: PUT\r\n\r\n",
                "POST /v1/topics/sse.other/messages HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\n"
                        + "Content-Length: 100000000\r\n\r\n",
                "POST /v1/topics/sse.other/messages HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\n\r\nx",
                "\u0000\u0001 not HTTP at all\r\n\r\n");
        for (String bytes : later) {
            ByteBuf in = Unpooled.copiedBuffer(bytes, StandardCharsets.ISO_8859_1);
            r.connection.writeInbound(in);
            assertThat(in.refCnt()).as("released: %s", bytes).isZero();
        }
        r.connection.runPendingTasks();
        assertThat(r.body()).as("nothing answered in the middle of the stream").isEmpty();
        assertThat(r.connection.isOpen()).isTrue();
        assertThat(fixture.firstOffset("sse.other")).as("nothing stored").isEqualTo(-1);

        fixture.publish("sse.p", "m2");
        assertThat(r.nextBody()).isEqualTo(chunk(event(2, "m2")));
    }

    @Test
    void aDeletedTopicEndsTheResponseWithTheErrorEventThenTheConnection() {
        fixture.publish("sse.doomed", "m1");
        Reader r = stream("/v1/topics/sse.doomed/events?from=earliest");
        assertThat(r.nextBody()).isEqualTo(chunk(event(1, "m1")));

        assertThat(fixture.delete("sse.doomed")).isTrue();
        r.connection.runUntil(() -> !r.connection.isOpen());
        String error = "event: error\ndata: {\"code\":\"topic_deleted\",\"message\":\"topic 'sse.doomed' was deleted\"}\n\n";
        String body = r.body();
        assertThat(body).isEqualTo(chunk(error) + "0\r\n\r\n");
        Chunked.Body decoded = Chunked.decode(body.getBytes(StandardCharsets.ISO_8859_1));
        assertThat(decoded.ended()).as("the body ends with the last chunk").isTrue();
        assertThat(fixture.subscribers("sse.doomed", "sse")).isZero();
    }

    @Test
    void aReaderBehindRetentionGetsAGapEventThenWhatIsLeft() {
        fixture.publishPastRetention("sse.short", 2, 5);
        Reader r = stream("/v1/topics/sse.short/events?from=1");
        assertThat(r.nextBody()).isEqualTo(chunk("event: gap\ndata: {\"topic\":\"sse.short\",\"from\":1,\"first\":4}\n\n")
                + chunk(event(4, "m4") + event(5, "m5")));
    }

    @Test
    void anHttp10ClientGetsTheEventsUnchunkedUntilTheConnectionCloses() {
        fixture.publish("sse.old", "m1");
        Reader r = new Reader("GET /v1/topics/sse.old/events?from=1 HTTP/1.0\r\n\r\n");
        assertThat(r.statusLine).startsWith("HTTP/1.1 200");
        assertThat(r.headers).containsEntry("connection", "close").doesNotContainKey("transfer-encoding")
                .doesNotContainKey("content-length");
        assertThat(r.nextBody()).isEqualTo(event(1, "m1"));
        r.advance(HEARTBEAT);
        assertThat(r.body()).as("the event filled the first interval").isEmpty();
        r.advance(HEARTBEAT);
        assertThat(r.body()).isEqualTo(HEARTBEAT_COMMENT);
    }

    @Test
    void aReaderThatStaysUnwritableIsPausedThenClosedAfterTheSlowConsumerTimeout() {
        fixture.publish("sse.slow", "m1");
        Reader r = stream("/v1/topics/sse.slow/events?from=1");
        assertThat(r.nextBody()).isEqualTo(chunk(event(1, "m1")));

        writable(r, false);
        fixture.publish("sse.slow", "m2");
        r.advance(SLOW_CONSUMER.minusMillis(1));
        assertThat(r.body()).as("nothing is written to a reader that cannot take it").isEmpty();
        writable(r, true);
        assertThat(r.body()).as("writable again: delivery resumes where it paused").isEqualTo(chunk(event(2, "m2")));
        r.advance(SLOW_CONSUMER);
        assertThat(r.connection.isOpen()).isTrue();

        writable(r, false);
        r.advance(SLOW_CONSUMER.minusMillis(1));
        assertThat(r.connection.isOpen()).isTrue();
        r.advance(Duration.ofMillis(1));
        assertThat(r.connection.isOpen()).as("closed after the slow-consumer timeout").isFalse();
        assertThat(fixture.subscribers("sse.slow", "sse")).isZero();
    }

    /** Makes the channel (un)writable as a full socket buffer would, which tells the pipeline. */
    private static void writable(Reader r, boolean writable) {
        r.connection.unsafe().outboundBuffer().setUserDefinedWritability(1, writable);
        r.connection.runPendingTasks();
    }
}
