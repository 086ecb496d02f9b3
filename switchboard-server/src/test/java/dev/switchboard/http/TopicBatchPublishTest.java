package dev.switchboard.http;

import static dev.switchboard.http.Wire.assertError;
import static dev.switchboard.http.Wire.describe;
import static dev.switchboard.http.Wire.heldPolls;
import static dev.switchboard.http.Wire.json;
import static dev.switchboard.http.Wire.publishText;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.config.Limits;
import dev.switchboard.testing.TestServer;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code POST /v1/topics/{topic}/batch} (docs/api.md), over the JDK HttpClient against a real server. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TopicBatchPublishTest {
    private static final String NDJSON = "application/x-ndjson";
    private static final String JSON = "application/json";
    @AutoClose
    private static final TestServer server = TestServer.start();
    private static final AtomicInteger names = new AtomicInteger();

    private static String fresh(String what) {
        return "batch." + what + "-" + names.incrementAndGet();
    }

    private static HttpResponse<String> batch(TestServer s, String topic, String type, String body, String... headers) {
        return batch(s, topic, type, body.getBytes(StandardCharsets.UTF_8), headers);
    }

    /** {@code headers} are name, value pairs; a null type sends no Content-Type. */
    private static HttpResponse<String> batch(TestServer s, String topic, String type, byte[] body,
                                              String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(s.uri("/v1/topics/" + topic + "/batch"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (type != null) {
            b.header("Content-Type", type);
        }
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return s.send(b.build());
    }

    /** The answer is 201 with exactly {@code {"topic","firstOffset","lastOffset","count","time"}} for that range. */
    private static JsonNode assertStored(HttpResponse<String> r, String topic, long first, long last) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(
                t -> assertThat(t).startsWith("application/json"));
        JsonNode body = json(r);
        assertThat(body.properties()).extracting(Map.Entry::getKey)
                .containsExactly("topic", "firstOffset", "lastOffset", "count", "time");
        assertThat(body.get("topic").asText()).isEqualTo(topic);
        assertThat(body.get("firstOffset").asLong()).isEqualTo(first);
        assertThat(body.get("lastOffset").asLong()).isEqualTo(last);
        assertThat(body.get("count").asLong()).isEqualTo(last - first + 1);
        assertThat(body.get("time").asText()).matches(Wire.TIME);
        return body;
    }

    /** The messages of a topic from {@code from} on, as a short poll answers them. */
    private static JsonNode messagesFrom(TestServer s, String topic, long from) {
        HttpResponse<String> r = s.get("/v1/topics/" + topic + "/messages?from=" + from);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return json(r).get("messages");
    }

    private static List<String> dataOf(JsonNode messages) {
        List<String> data = new ArrayList<>();
        messages.forEach(m -> data.add(m.get("data").toString()));
        return data;
    }

    @Test
    void ndjsonLinesAreStoredAtContiguousOffsetsAndAnswered201WithTheRange() {
        String topic = fresh("ndjson");
        publishText(server, topic, "before");
        Instant before = Instant.now().minusSeconds(1);

        HttpResponse<String> r = batch(server, topic, NDJSON + "; charset=utf-8",
                "{\"n\":1}\n\n  \t\r\n[2, 3]\r\n\"three\"");
        JsonNode body = assertStored(r, topic, 2, 4);
        assertThat(Instant.parse(body.get("time").asText())).isBetween(before, Instant.now().plusSeconds(1));
        assertThat(r.headers().firstValue("Idempotent-Replayed")).isEmpty();

        JsonNode stored = messagesFrom(server, topic, 2);
        assertThat(stored).extracting(m -> m.get("offset").asLong()).containsExactly(2L, 3L, 4L);
        assertThat(stored).extracting(m -> m.get("type").asText()).containsOnly(JSON);
        assertThat(stored).extracting(m -> m.get("time").asText()).containsOnly(body.get("time").asText());
        assertThat(dataOf(stored)).containsExactly("{\"n\":1}", "[2,3]", "\"three\"");
        assertThat(describe(server, topic).get("lastOffset").asLong()).isEqualTo(4);
        assertThat(publishText(server, topic, "after")).isEqualTo(5);
    }

    @Test
    void arrayElementsAreStoredOneMessageEachReSerialisedCompactlyWithExactNumbers() {
        String topic = fresh("array");
        HttpResponse<String> r = batch(server, topic, JSON,
                "[ {\"a\" : 1,  \"b\": [true, null]} ,\n 12.50, \"x y\", 1e400, 123456789012345678901234567890 ]");
        assertStored(r, topic, 1, 5);

        // The envelope embeds a JSON payload verbatim: the poll's raw text shows the stored bytes. Numbers keep their
        // exact value, not a double's (which would be Infinity here), in BigDecimal's notation.
        String poll = server.get("/v1/topics/" + topic + "/messages?from=1").body();
        assertThat(poll).contains("\"data\":{\"a\":1,\"b\":[true,null]}", "\"data\":12.50", "\"data\":\"x y\"",
                "\"data\":1E+400", "\"data\":123456789012345678901234567890");
        assertThat(messagesFrom(server, topic, 1)).extracting(m -> m.get("type").asText()).containsOnly(JSON);
    }

    @Test
    void otherContentTypesAre415WithAcceptPostAndStoreNothing() {
        String topic = fresh("type");
        for (String type : new String[] {"text/plain", "application/octet-stream", "application/ld+json", null}) {
            HttpResponse<String> r = batch(server, topic, type, "[1]");
            assertError("type " + type, r, 415, "invalid_type");
            assertThat(r.headers().firstValue("Accept-Post")).hasValue("application/x-ndjson, application/json");
        }
        assertThat(describe(server, topic)).isNull();
    }

    @Test
    void invalidJsonIsRefusedNamingTheLineOrElementAndStoresNothing() {
        String topic = fresh("invalid");
        publishText(server, topic, "kept");
        Map<String, HttpResponse<String>> refused = Map.of(
                "line 2", batch(server, topic, NDJSON, "{\"ok\":1}\n{bad}\n{\"ok\":3}\n"),
                "line 3", batch(server, topic, NDJSON, "1\n\n2 3\n"),
                "line 1", batch(server, topic, NDJSON, new byte[] {'"', (byte) 0xC3, '"', '\n'}),
                "element [1]", batch(server, topic, JSON, "[1, {\"a\":}, 3]"),
                "element [2]", batch(server, topic, JSON, "[1, 2"),
                "must be a JSON array", batch(server, topic, JSON, "{\"a\":1}"),
                "after its JSON array", batch(server, topic, JSON, "[1] [2]"));
        refused.forEach((named, r) -> {
            assertError(named, r, 400, "invalid_json");
            assertThat(json(r).get("error").get("message").asText()).contains(named);
        });
        assertThat(describe(server, topic).get("lastOffset").asLong()).isEqualTo(1);
    }

    @Test
    void emptyTooManyAndTooLargeBatchesAreRefusedAndStoreNothing() {
        try (TestServer small = TestServer.start(c -> c.withLimits(
                Limits.defaults().withMaxBatchMessages(3).withMaxMessageBytes(1000)))) {
            String topic = fresh("limits");
            publishText(small, topic, "kept");

            assertError("empty NDJSON", batch(small, topic, NDJSON, "\n \n"), 400, "invalid_json");
            assertError("empty array", batch(small, topic, JSON, "[]"), 400, "invalid_json");
            HttpResponse<String> tooMany = batch(small, topic, NDJSON, "1\n2\n3\n4\n");
            assertError("four messages", tooMany, 413, "payload_too_large");
            assertThat(json(tooMany).get("error").get("message").asText()).contains("4 messages", "limit is 3");
            String tooLarge = "[\"" + "x".repeat(1000) + "\"]";
            assertError("a body over the HTTP body limit", batch(small, topic, JSON, tooLarge), 413,
                    "payload_too_large");
            assertThat(describe(small, topic).get("lastOffset").asLong()).isEqualTo(1);

            assertStored(batch(small, topic, NDJSON, "1\n2\n3\n"), topic, 2, 4);
        }
    }

    @Test
    void refusedTopicsAndMethods() {
        assertError(batch(server, "bad..name", JSON, "[1]"), 400, "invalid_topic");
        assertError(batch(server, "_jobs.x", JSON, "[1]"), 403, "reserved_topic");
        assertError(batch(server, fresh("key"), JSON, "[1]", "Idempotency-Key", "k".repeat(256)), 400,
                "invalid_idempotency_key");
        HttpResponse<String> get = server.get("/v1/topics/" + fresh("get") + "/batch");
        assertError(get, 405, "method_not_allowed");
        assertThat(get.headers().firstValue("Allow")).hasValue("POST");
    }

    @Test
    void aRetryWithTheSameIdempotencyKeyReturnsTheOriginalRangeAndStoresNothing() {
        String topic = fresh("idem");
        JsonNode first = assertStored(batch(server, topic, NDJSON, "1\n2\n3\n", "Idempotency-Key", "import-7"),
                topic, 1, 3);
        for (String retryBody : new String[] {"1\n2\n3\n", "[\"different\"]"}) {
            String type = retryBody.startsWith("[") ? JSON : NDJSON;
            HttpResponse<String> retry = batch(server, topic, type, retryBody, "Idempotency-Key", "import-7");
            assertThat(assertStored(retry, topic, 1, 3)).isEqualTo(first);
            assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
        }
        assertThat(describe(server, topic).get("lastOffset").asLong()).isEqualTo(3);
        assertStored(batch(server, topic, NDJSON, "4\n", "Idempotency-Key", "import-8"), topic, 4, 4);
    }

    @Test
    void aHeldLongPollReceivesTheWholeBatchInOrder() throws Exception {
        String topic = fresh("poll");
        publishText(server, topic, "first");
        CompletableFuture<HttpResponse<String>> held = server.http().sendAsync(
                HttpRequest.newBuilder(server.uri("/v1/topics/" + topic + "/messages?from=2&wait=30s")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        await().atMost(Duration.ofSeconds(10)).until(() -> heldPolls(server, topic) == 1);

        assertStored(batch(server, topic, NDJSON, "\"b1\"\n\"b2\"\n\"b3\"\n\"b4\"\n\"b5\"\n"), topic, 2, 6);

        HttpResponse<String> r = held.get(10, TimeUnit.SECONDS);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode answer = json(r);
        assertThat(answer.get("messages")).extracting(m -> m.get("offset").asLong())
                .containsExactly(2L, 3L, 4L, 5L, 6L);
        assertThat(dataOf(answer.get("messages"))).containsExactly("\"b1\"", "\"b2\"", "\"b3\"", "\"b4\"", "\"b5\"");
        assertThat(answer.get("next").asLong()).isEqualTo(7);
    }
}
