package dev.switchboard.stream;

import static dev.switchboard.stream.StreamFixtures.describe;
import static dev.switchboard.stream.StreamFixtures.json;
import static dev.switchboard.stream.StreamFixtures.publish;
import static dev.switchboard.stream.StreamFixtures.setRetention;
import static dev.switchboard.stream.StreamFixtures.subscribers;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.testing.SseParser.Event;
import dev.switchboard.testing.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code GET /v1/topics/{topic}/events} over real sockets, read by curl and by the JDK HttpClient. One server for the
 * class; every test uses its own topics.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SseTest {
    private static final Duration HEARTBEAT = Duration.ofMillis(200);
    private static final Duration WAIT = Duration.ofSeconds(10);

    private TestServer server;
    private final List<SseClient> clients = new ArrayList<>();

    @BeforeAll
    void start() {
        server = TestServer.start(cfg -> cfg.withSseHeartbeat(HEARTBEAT));
    }

    @AfterEach
    void disconnectClients() {
        clients.forEach(SseClient::close);
        clients.clear();
    }

    @AfterAll
    void stop() {
        server.close();
    }

    private CurlSse curl(String pathAndQuery, String... headers) {
        CurlSse c = CurlSse.open(server.url() + pathAndQuery, headers);
        clients.add(c);
        return c;
    }

    private HttpClientSse httpClient(String pathAndQuery, String... headerNamesAndValues) {
        HttpClientSse c = HttpClientSse.open(server.http(), server.uri(pathAndQuery), headerNamesAndValues);
        clients.add(c);
        return c;
    }

    private void awaitSseSubscribers(String topic, int n) {
        await().atMost(WAIT).until(() -> subscribers(server, topic, "sse") == n);
    }

    @Test
    void curlSeesStoredAndLiveEventsWithIdTypeAndDataLines() {
        publish(server, "news", "first");
        publish(server, "news", "two\nlines\r\nand\rthree breaks");
        publish(server, "news", "application/json", "{\"text\":\"hi\",\"n\":[1,2]}");

        CurlSse sse = curl("/v1/topics/news/events?from=earliest");
        await().atMost(WAIT).until(() -> sse.events.size() == 3);
        assertThat(sse.events).containsExactly(
                new Event("1", "message", "first"),
                new Event("2", "message", "two\nlines\nand\nthree breaks"),
                new Event("3", "message", "{\"text\":\"hi\",\"n\":[1,2]}"));

        publish(server, "news", "live one");
        await().atMost(WAIT).until(() -> sse.events.size() == 4);
        assertThat(sse.events.get(3)).isEqualTo(new Event("4", "message", "live one"));
        assertThat(sse.alive()).isTrue();
    }

    @Test
    void wireFormHasOneDataLinePerPayloadLine() throws Exception {
        publish(server, "lines", "a\r\nb\rc\nd");
        HttpResponse<Stream<String>> r = server.http().sendAsync(
                HttpRequest.newBuilder(server.uri("/v1/topics/lines/events?from=1")).GET().build(),
                HttpResponse.BodyHandlers.ofLines()).get(10, TimeUnit.SECONDS);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(
                t -> assertThat(t).startsWith("text/event-stream"));
        assertThat(r.headers().firstValue("Cache-Control")).hasValue("no-cache");
        List<String> lines = new CopyOnWriteArrayList<>();
        Thread reader = Thread.ofPlatform().daemon().start(() -> {
            try (Stream<String> s = r.body()) {
                s.forEach(lines::add);
            } catch (RuntimeException ignored) {
                // the body is closed when the test ends
            }
        });
        try {
            await().atMost(WAIT).until(() -> lines.size() >= 7);
            assertThat(lines.subList(0, 7))
                    .containsExactly("id: 1", "event: message", "data: a", "data: b", "data: c", "data: d", "");
        } finally {
            r.body().close();
            reader.join(5000);
        }
    }

    @Test
    void httpClientStreamFromNextGetsOnlyNewMessages() {
        publish(server, "ticks", "old-1");
        publish(server, "ticks", "old-2");
        HttpClientSse sse = httpClient("/v1/topics/ticks/events");
        awaitSseSubscribers("ticks", 1);
        publish(server, "ticks", "new-3");
        publish(server, "ticks", "new-4");
        await().atMost(WAIT).until(() -> sse.events.size() == 2);
        assertThat(sse.events).containsExactly(new Event("3", "message", "new-3"), new Event("4", "message", "new-4"));
    }

    @Test
    void fromNStartsAtThatOffset() {
        for (int i = 1; i <= 5; i++) {
            publish(server, "nums", "m" + i);
        }
        CurlSse sse = curl("/v1/topics/nums/events?from=3");
        HttpClientSse viaClient = httpClient("/v1/topics/nums/events?from=3");
        await().atMost(WAIT).until(() -> sse.events.size() == 3 && viaClient.events.size() == 3);
        assertThat(sse.messageIds()).containsExactly(3L, 4L, 5L);
        assertThat(viaClient.events).containsExactlyElementsOf(sse.events);
        assertThat(sse.events.get(0).data()).isEqualTo("m3");
    }

    @Test
    void fromBeyondTheEndWaitsForThatOffset() {
        publish(server, "ahead", "m1");
        CurlSse sse = curl("/v1/topics/ahead/events?from=3");
        awaitSseSubscribers("ahead", 1);
        publish(server, "ahead", "m2");
        publish(server, "ahead", "m3");
        await().atMost(WAIT).until(() -> sse.events.size() == 1);
        assertThat(sse.events).containsExactly(new Event("3", "message", "m3"));
    }

    @Test
    void lastEventIdResumesAfterItAndWinsOverFrom() {
        for (int i = 1; i <= 5; i++) {
            publish(server, "resume", "m" + i);
        }
        CurlSse sse = curl("/v1/topics/resume/events?from=earliest", "Last-Event-ID: 2");
        HttpClientSse viaClient = httpClient("/v1/topics/resume/events?from=1", "Last-Event-ID", "3");
        await().atMost(WAIT).until(() -> sse.events.size() == 3 && viaClient.events.size() == 2);
        assertThat(sse.messageIds()).containsExactly(3L, 4L, 5L);
        assertThat(viaClient.messageIds()).containsExactly(4L, 5L);

        publish(server, "resume", "m6");
        await().atMost(WAIT).until(() -> sse.events.size() == 4 && viaClient.events.size() == 3);
        assertThat(sse.messageIds()).containsExactly(3L, 4L, 5L, 6L);
        assertThat(viaClient.messageIds()).containsExactly(4L, 5L, 6L);
    }

    @Test
    void lastEventIdAtTheLargestOffsetDoesNotReplayTheTopic() {
        publish(server, "huge-id", "m1");
        Answer r = sendBounded(HttpRequest.newBuilder(server.uri("/v1/topics/huge-id/events"))
                .header("Last-Event-ID", Long.toString(Long.MAX_VALUE)).GET().build());
        assertThat(r.status()).as("resuming after offset 2^63-1: %s", r.body()).isEqualTo(400);
        assertThat(r.body()).doesNotContain("data: m1");
    }

    /** A response whose body was read for at most a second. */
    record Answer(int status, HttpHeaders headers, String body) {}

    /**
     * Sends a request that should be refused; if it opens a stream instead, reads it for at most a second, so the
     * test fails on what it got rather than hanging on an endless body.
     */
    private Answer sendBounded(HttpRequest request) {
        try {
            HttpResponse<InputStream> r = server.http().sendAsync(request, HttpResponse.BodyHandlers.ofInputStream())
                    .get(10, TimeUnit.SECONDS);
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            Thread reader = Thread.ofPlatform().daemon().start(() -> {
                try (InputStream in = r.body()) {
                    in.transferTo(body);
                } catch (IOException ignored) {
                    // closed below when it is a stream
                }
            });
            reader.join(1000);
            if (reader.isAlive()) {
                r.body().close();
                reader.join(5000);
            }
            synchronized (body) {
                return new Answer(r.statusCode(), r.headers(), body.toString(StandardCharsets.UTF_8));
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void heartbeatCommentsArriveAtTheConfiguredInterval() {
        publish(server, "quiet", "only");
        CurlSse sse = curl("/v1/topics/quiet/events");
        await().atMost(WAIT).until(() -> sse.comments.size() >= 6);
        assertThat(sse.events).as("heartbeats are comments, never events").isEmpty();

        List<Long> gapsMillis = new ArrayList<>();
        List<SseClient.Comment> beats = List.copyOf(sse.comments);
        for (int i = 1; i < beats.size(); i++) {
            gapsMillis.add(TimeUnit.NANOSECONDS.toMillis(beats.get(i).nanos() - beats.get(i - 1).nanos()));
        }
        List<Long> sorted = new ArrayList<>(gapsMillis);
        Collections.sort(sorted);
        long median = sorted.get(sorted.size() / 2);
        System.out.printf("SSE heartbeat gaps (configured %d ms): %s%n", HEARTBEAT.toMillis(), gapsMillis);
        assertThat(median).as("median gap between heartbeats, ms").isBetween(120L, 400L);
    }

    @Test
    void heartbeatKeepsAnIdleHttpClientStreamAlive() {
        HttpClientSse sse = httpClient("/v1/topics/idle-topic/events");
        await().atMost(WAIT).until(() -> sse.comments.size() >= 3);
        assertThat(sse.ended()).isFalse();
        // a topic that does not exist yet can be streamed; its first message arrives
        publish(server, "idle-topic", "hello");
        await().atMost(WAIT).until(() -> sse.events.size() == 1);
        assertThat(sse.events.get(0)).isEqualTo(new Event("1", "message", "hello"));
    }

    @Test
    void gapEventWhenTheResumePointWasDroppedByRetention() {
        setRetention(server, "short", "{\"maxMessages\":2}");
        for (int i = 1; i <= 5; i++) {
            publish(server, "short", "m" + i);
        }
        await().atMost(WAIT).until(() -> describe(server, "short").get("firstOffset").asLong() == 4);

        CurlSse fromOne = curl("/v1/topics/short/events?from=1");
        HttpClientSse afterOne = httpClient("/v1/topics/short/events", "Last-Event-ID", "1");
        await().atMost(WAIT).until(() -> fromOne.events.size() == 3 && afterOne.events.size() == 3);

        Event gap = fromOne.events.get(0);
        assertThat(gap.type()).isEqualTo("gap");
        JsonNode g = json(gap.data());
        assertThat(g.get("topic").asText()).isEqualTo("short");
        assertThat(g.get("from").asLong()).isEqualTo(1);
        assertThat(g.get("first").asLong()).isEqualTo(4);
        assertThat(fromOne.events.subList(1, 3))
                .containsExactly(new Event("4", "message", "m4"), new Event("5", "message", "m5"));

        assertThat(afterOne.events.get(0).type()).isEqualTo("gap");
        assertThat(json(afterOne.events.get(0).data()).get("from").asLong()).isEqualTo(2);
        assertThat(json(afterOne.events.get(0).data()).get("first").asLong()).isEqualTo(4);
        assertThat(afterOne.messageIds()).containsExactly(4L, 5L);

        // a reader that is not behind retention gets no gap
        CurlSse fromFour = curl("/v1/topics/short/events?from=4");
        await().atMost(WAIT).until(() -> fromFour.events.size() == 2);
        assertThat(fromFour.events).extracting(Event::type).containsOnly("message");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "/v1/topics/bad$name/events",
            "/v1/topics/a..b/events",
            "/v1/topics/.lead/events",
            "/v1/topics/trail./events"})
    void badTopicIsA400JsonErrorBeforeTheStream(String path) {
        assertJsonError(HttpRequest.newBuilder(server.uri(path)).GET().build(), 400, "invalid_topic");
    }

    @Test
    void overlongTopicIsA400JsonError() {
        assertJsonError(HttpRequest.newBuilder(server.uri("/v1/topics/" + "x".repeat(256) + "/events")).GET().build(),
                400, "invalid_topic");
        // 255 is fine
        HttpClientSse ok = httpClient("/v1/topics/" + "x".repeat(255) + "/events");
        assertThat(ok.ended()).isFalse();
    }

    @ParameterizedTest(name = "from={0}")
    @ValueSource(strings = {"abc", "0", "-1", "1.5", "99999999999999999999", "Earliest"})
    void badFromIsA400JsonErrorBeforeTheStream(String from) {
        assertJsonError(HttpRequest.newBuilder(server.uri("/v1/topics/t/events?from=" + from)).GET().build(), 400,
                "invalid_from");
    }

    @ParameterizedTest(name = "Last-Event-ID: {0}")
    @ValueSource(strings = {"abc", "-1", "1.5", "99999999999999999999", "9223372036854775807"})
    void badLastEventIdIsA400JsonError(String id) {
        // the last is Long.MAX_VALUE: there is no offset after it to resume from
        assertJsonError(HttpRequest.newBuilder(server.uri("/v1/topics/t/events")).header("Last-Event-ID", id).GET()
                .build(), 400, "invalid_from");
    }

    private void assertJsonError(HttpRequest request, int status, String code) {
        Answer r = sendBounded(request);
        assertThat(r.status()).as(r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(
                t -> assertThat(t).startsWith("application/json"));
        JsonNode error = json(r.body()).get("error");
        assertThat(error).as(r.body()).isNotNull();
        assertThat(error.get("code").asText()).isEqualTo(code);
        assertThat(error.get("message").asText()).isNotBlank();
        assertThat(server.get("/v1/topics/t").statusCode()).as("a refused stream stores nothing").isEqualTo(404);
    }

    @Test
    void jsonThatIsNotUtf8IsRefusedSoStreamsOnlyCarryUtf8() throws Exception {
        // Jackson's parser lets some invalid UTF-8 through inside strings: an encoded surrogate, an overlong NUL, a
        // code point above U+10FFFF. JSON must be UTF-8 (RFC 8259); such a body would be sent raw on SSE streams (not
        // UTF-8) and altered to U+FFFD in WebSocket and poll envelopes.
        HttpClientSse sse = httpClient("/v1/topics/json-utf8/events");
        byte[][] bodies = {
                {'"', (byte) 0xed, (byte) 0xa0, (byte) 0x80, '"'},
                {'{', '"', 'a', '"', ':', '"', (byte) 0xc0, (byte) 0x80, '"', '}'},
                {'[', '"', (byte) 0xf4, (byte) 0x90, (byte) 0x80, (byte) 0x80, '"', ']'}};
        for (byte[] body : bodies) {
            HttpResponse<String> r = server.send(HttpRequest.newBuilder(server.uri("/v1/topics/json-utf8/messages"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(body))
                    .build());
            assertThat(r.statusCode()).as("publish of %s: %s", java.util.HexFormat.of().formatHex(body), r.body())
                    .isEqualTo(400);
            assertThat(json(r.body()).path("error").path("code").asText()).isEqualTo("invalid_json");
        }
        assertThat(server.get("/v1/topics/json-utf8").statusCode()).as("nothing was stored").isEqualTo(404);
        // valid UTF-8 JSON, multi-byte characters included, goes through unchanged
        publish(server, "json-utf8", "application/json", "{\"text\":\"h\u00e9llo \ud83c\udf89\"}");
        await().atMost(WAIT).until(() -> sse.events.size() == 1);
        assertThat(sse.events.get(0).data()).isEqualTo("{\"text\":\"h\u00e9llo \ud83c\udf89\"}");
    }

    @Test
    void describeCountsSseSubscribersWhileConnected() {
        publish(server, "counted", "m1");
        assertThat(subscribers(server, "counted", "sse")).isZero();

        CurlSse viaCurl = curl("/v1/topics/counted/events");
        awaitSseSubscribers("counted", 1);
        HttpClientSse viaClient = httpClient("/v1/topics/counted/events");
        awaitSseSubscribers("counted", 2);

        viaCurl.disconnect();
        awaitSseSubscribers("counted", 1);
        viaClient.disconnect();
        awaitSseSubscribers("counted", 0);
        // docs/api.md does not say whether a transport with no subscribers is listed as 0 or left out; it is left out
        assertThat(describe(server, "counted").path("subscribers").has("sse")).isFalse();
    }

    @Test
    void deletingTheTopicEndsTheStreamWithAnErrorEvent() {
        publish(server, "doomed", "m1");
        CurlSse sse = curl("/v1/topics/doomed/events?from=earliest");
        await().atMost(WAIT).until(() -> sse.events.size() == 1);
        HttpResponse<String> r = server.send(HttpRequest.newBuilder(server.uri("/v1/topics/doomed")).DELETE().build());
        assertThat(r.statusCode()).isEqualTo(204);
        await().atMost(WAIT).until(() -> sse.ended() && sse.events.size() == 2);
        assertThat(sse.events.get(1).type()).isEqualTo("error");
        assertThat(json(sse.events.get(1).data()).get("code").asText()).isEqualTo("topic_deleted");
    }
}
