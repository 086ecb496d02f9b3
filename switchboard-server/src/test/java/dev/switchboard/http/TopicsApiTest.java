package dev.switchboard.http;

import static dev.switchboard.http.Wire.assertError;
import static dev.switchboard.http.Wire.delete;
import static dev.switchboard.http.Wire.describe;
import static dev.switchboard.http.Wire.json;
import static dev.switchboard.http.Wire.publish;
import static dev.switchboard.http.Wire.publishText;
import static dev.switchboard.http.Wire.put;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.testing.TestServer;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Every "Topics over HTTP/1.1" and "Operations" row of docs/api.md, over the JDK HttpClient against a real server. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TopicsApiTest {
    private static final AtomicInteger names = new AtomicInteger();
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    /** A topic name no other test uses, with a dot and a dash to exercise the name grammar. */
    private static String fresh(String what) {
        return "topics-api." + what + "-" + names.incrementAndGet();
    }

    private static JsonNode shortPoll(String topic, String query) {
        HttpResponse<String> r = server.get("/v1/topics/" + topic + "/messages" + query);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type"))
                .hasValueSatisfying(t -> assertThat(t).startsWith("application/json"));
        JsonNode body = json(r);
        assertThat(body.get("topic").asText()).isEqualTo(topic);
        assertThat(body.get("messages").isArray()).isTrue();
        assertThat(body.get("next").isIntegralNumber()).isTrue();
        assertThat(body.get("gap").isBoolean()).isTrue();
        return body;
    }

    private static List<Long> offsets(JsonNode poll) {
        List<Long> out = new ArrayList<>();
        poll.get("messages").forEach(m -> out.add(m.get("offset").asLong()));
        return out;
    }

    private static List<String> texts(JsonNode poll) {
        List<String> out = new ArrayList<>();
        poll.get("messages").forEach(m -> out.add(m.get("data").asText()));
        return out;
    }

    // ---- publish ----

    @Test
    void publishAnswers201WithTopicOffsetAndTimeAndOffsetsCountUpFromOne() {
        String topic = fresh("pub");
        Instant before = Instant.now().minusSeconds(1);
        for (int i = 1; i <= 3; i++) {
            HttpResponse<String> r = publish(server, topic, "application/json", "{\"n\":" + i + "}");
            assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
            assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(
                    t -> assertThat(t).startsWith("application/json"));
            JsonNode body = json(r);
            assertThat(body.properties()).extracting(java.util.Map.Entry::getKey)
                    .containsExactly("topic", "offset", "time");
            assertThat(body.get("topic").asText()).isEqualTo(topic);
            assertThat(body.get("offset").isIntegralNumber()).isTrue();
            assertThat(body.get("offset").asLong()).isEqualTo(i);
            String time = body.get("time").asText();
            assertThat(time).matches(Wire.TIME);
            assertThat(Instant.parse(time)).isBetween(before, Instant.now().plusSeconds(1));
        }
        JsonNode d = describe(server, topic);
        assertThat(d.get("lastOffset").asLong()).isEqualTo(3);
        assertThat(d.get("messages").asLong()).isEqualTo(3);
    }

    @Test
    void timesNeverGoBackwardsWithinATopic() {
        String topic = fresh("times");
        for (int i = 0; i < 20; i++) {
            publishText(server, topic, "m" + i);
        }
        JsonNode poll = shortPoll(topic, "?from=1");
        Instant previous = Instant.EPOCH;
        for (JsonNode m : poll.get("messages")) {
            Instant t = Instant.parse(m.get("time").asText());
            assertThat(t).isAfterOrEqualTo(previous);
            previous = t;
        }
    }

    @Test
    void idempotencyKeyRetryReturnsTheFirstOffsetAndAppendsNothing() {
        String topic = fresh("idem");
        publishText(server, topic, "before");
        HttpResponse<String> first = server.send(HttpRequest.newBuilder(server.uri("/v1/topics/" + topic + "/messages"))
                .header("Content-Type", "text/plain").header("Idempotency-Key", "order-17")
                .POST(HttpRequest.BodyPublishers.ofString("once")).build());
        assertThat(first.statusCode()).isEqualTo(201);
        assertThat(json(first).get("offset").asLong()).isEqualTo(2);

        for (int i = 0; i < 3; i++) {
            HttpResponse<String> retry = server.send(HttpRequest.newBuilder(
                            server.uri("/v1/topics/" + topic + "/messages"))
                    .header("Content-Type", "text/plain").header("Idempotency-Key", "order-17")
                    .POST(HttpRequest.BodyPublishers.ofString("once")).build());
            assertThat(retry.statusCode()).isEqualTo(201);
            assertThat(json(retry).get("offset").asLong()).isEqualTo(2);
            assertThat(json(retry).get("time").asText()).isEqualTo(json(first).get("time").asText());
            // extension: a replayed answer says so
            assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
        }
        JsonNode d = describe(server, topic);
        assertThat(d.get("lastOffset").asLong()).isEqualTo(2);
        assertThat(d.get("messages").asLong()).isEqualTo(2);
        assertThat(texts(shortPoll(topic, "?from=1"))).containsExactly("before", "once");

        HttpResponse<String> other = server.send(HttpRequest.newBuilder(server.uri("/v1/topics/" + topic + "/messages"))
                .header("Content-Type", "text/plain").header("Idempotency-Key", "order-18")
                .POST(HttpRequest.BodyPublishers.ofString("twice")).build());
        assertThat(json(other).get("offset").asLong()).isEqualTo(3);
        assertThat(other.headers().firstValue("Idempotent-Replayed")).isEmpty();
        assertThat(describe(server, topic).get("lastOffset").asLong()).isEqualTo(3);
    }

    @Test
    void publishWithExpectContinue() {
        String topic = fresh("continue");
        HttpResponse<String> r = server.send(HttpRequest.newBuilder(server.uri("/v1/topics/" + topic + "/messages"))
                .expectContinue(true).header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString("after 100")).build());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        assertThat(texts(shortPoll(topic, "?from=1"))).containsExactly("after 100");
    }

    @Test
    void concurrentRetriesWithOneKeyStoreOneMessage() throws Exception {
        String topic = fresh("idem-race");
        List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            all.add(server.http().sendAsync(HttpRequest.newBuilder(server.uri("/v1/topics/" + topic + "/messages"))
                    .header("Idempotency-Key", "same").header("Content-Type", "text/plain")
                    .timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.ofString("x")).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        for (CompletableFuture<HttpResponse<String>> f : all) {
            HttpResponse<String> r = f.get(10, TimeUnit.SECONDS);
            assertThat(r.statusCode()).isEqualTo(201);
            assertThat(json(r).get("offset").asLong()).isEqualTo(1);
        }
        assertThat(describe(server, topic).get("messages").asLong()).isEqualTo(1);
    }

    @Test
    void idempotencyKeysAreScopedToTheirTopic() {
        String a = fresh("idem-a");
        String b = fresh("idem-b");
        publishText(server, b, "b1");
        for (String topic : List.of(a, b)) {
            HttpResponse<String> r = server.send(HttpRequest.newBuilder(server.uri("/v1/topics/" + topic + "/messages"))
                    .header("Idempotency-Key", "k").POST(HttpRequest.BodyPublishers.ofString(topic)).build());
            assertThat(r.headers().firstValue("Idempotent-Replayed")).isEmpty();
        }
        assertThat(describe(server, a).get("lastOffset").asLong()).isEqualTo(1);
        assertThat(describe(server, b).get("lastOffset").asLong()).isEqualTo(2);
    }

    // ---- short poll ----

    @Test
    void shortPollFromNumberEarliestAndNextWithLimit() {
        String topic = fresh("poll");
        for (int i = 1; i <= 5; i++) {
            publishText(server, topic, "m" + i);
        }
        JsonNode all = shortPoll(topic, "");
        assertThat(offsets(all)).as("default is from=earliest").containsExactly(1L, 2L, 3L, 4L, 5L);
        assertThat(all.get("next").asLong()).isEqualTo(6);
        assertThat(all.get("gap").asBoolean()).isFalse();

        JsonNode from3 = shortPoll(topic, "?from=3");
        assertThat(offsets(from3)).containsExactly(3L, 4L, 5L);
        assertThat(texts(from3)).containsExactly("m3", "m4", "m5");
        assertThat(from3.get("next").asLong()).isEqualTo(6);

        JsonNode page = shortPoll(topic, "?from=earliest&limit=2");
        assertThat(offsets(page)).containsExactly(1L, 2L);
        assertThat(page.get("next").asLong()).isEqualTo(3);
        JsonNode page2 = shortPoll(topic, "?from=" + page.get("next").asLong() + "&limit=2");
        assertThat(offsets(page2)).containsExactly(3L, 4L);
        JsonNode page3 = shortPoll(topic, "?from=" + page2.get("next").asLong() + "&limit=2");
        assertThat(offsets(page3)).containsExactly(5L);
        assertThat(page3.get("next").asLong()).isEqualTo(6);

        JsonNode next = shortPoll(topic, "?from=next");
        assertThat(offsets(next)).isEmpty();
        assertThat(next.get("next").asLong()).isEqualTo(6);
        assertThat(next.get("gap").asBoolean()).isFalse();

        JsonNode beyond = shortPoll(topic, "?from=100");
        assertThat(offsets(beyond)).isEmpty();
        assertThat(beyond.get("next").asLong()).isEqualTo(100);
        assertThat(beyond.get("gap").asBoolean()).isFalse();

        publishText(server, topic, "m6");
        JsonNode after = shortPoll(topic, "?from=" + next.get("next").asLong());
        assertThat(texts(after)).containsExactly("m6");
    }

    @Test
    void envelopeCarriesJsonTextAndBinaryPayloads() {
        String topic = fresh("forms");
        publish(server, topic, "application/json", "{\"text\":\"hi\",\"n\":[1,2]}");
        publish(server, topic, "text/plain; charset=utf-8", "héllo\nwörld");
        byte[] binary = {(byte) 0xff, (byte) 0xfe, 0x00, 0x01, (byte) 0x80};
        server.send(HttpRequest.newBuilder(server.uri("/v1/topics/" + topic + "/messages"))
                .header("Content-Type", "application/octet-stream")
                .POST(HttpRequest.BodyPublishers.ofByteArray(binary)).build());
        server.send(HttpRequest.newBuilder(server.uri("/v1/topics/" + topic + "/messages"))
                .header("Content-Type", "application/octet-stream")
                .POST(HttpRequest.BodyPublishers.ofString("plain bytes")).build());
        publish(server, topic, "application/vnd.example+json", "[true,null]");

        JsonNode messages = shortPoll(topic, "?from=1").get("messages");
        assertThat(messages).hasSize(5);

        JsonNode jsonMsg = messages.get(0);
        assertThat(jsonMsg.properties()).extracting(java.util.Map.Entry::getKey)
                .containsExactly("topic", "offset", "time", "type", "data");
        assertThat(jsonMsg.get("topic").asText()).isEqualTo(topic);
        assertThat(jsonMsg.get("offset").asLong()).isEqualTo(1);
        assertThat(jsonMsg.get("time").asText()).matches(Wire.TIME);
        assertThat(jsonMsg.get("type").asText()).isEqualTo("application/json");
        assertThat(jsonMsg.get("data")).isEqualTo(json("{\"text\":\"hi\",\"n\":[1,2]}"));
        assertThat(jsonMsg.has("encoding")).isFalse();

        JsonNode text = messages.get(1);
        assertThat(text.get("type").asText()).isEqualTo("text/plain; charset=utf-8");
        assertThat(text.get("data").isTextual()).isTrue();
        assertThat(text.get("data").asText()).isEqualTo("héllo\nwörld");
        assertThat(text.has("encoding")).isFalse();

        JsonNode bin = messages.get(2);
        assertThat(bin.get("type").asText()).isEqualTo("application/octet-stream");
        assertThat(bin.get("encoding").asText()).isEqualTo("base64");
        assertThat(Base64.getDecoder().decode(bin.get("data").asText())).isEqualTo(binary);

        JsonNode utf8Bytes = messages.get(3);
        assertThat(utf8Bytes.get("data").asText()).as("valid UTF-8 is a string whatever the type")
                .isEqualTo("plain bytes");
        assertThat(utf8Bytes.has("encoding")).isFalse();

        JsonNode suffixJson = messages.get(4);
        assertThat(suffixJson.get("data")).isEqualTo(json("[true,null]"));
    }

    @Test
    void publishWithoutContentTypeIsStoredAsOctetStream() {
        String topic = fresh("notype");
        HttpResponse<String> r = server.send(HttpRequest.newBuilder(server.uri("/v1/topics/" + topic + "/messages"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[] {(byte) 0xc3})).build());
        assertThat(r.statusCode()).isEqualTo(201);
        JsonNode m = shortPoll(topic, "?from=1").get("messages").get(0);
        assertThat(m.get("type").asText()).isEqualTo("application/octet-stream");
        assertThat(m.get("encoding").asText()).isEqualTo("base64");
        assertThat(Base64.getDecoder().decode(m.get("data").asText())).containsExactly((byte) 0xc3);
    }

    // ---- list, describe ----

    @Test
    void listAndDescribe() {
        String a = fresh("list-a");
        String b = fresh("list-b");
        publishText(server, a, "12345");
        publishText(server, a, "678");
        publishText(server, b, "x");

        JsonNode d = describe(server, a);
        assertThat(d.get("topic").asText()).isEqualTo(a);
        assertThat(d.get("firstOffset").asLong()).isEqualTo(1);
        assertThat(d.get("lastOffset").asLong()).isEqualTo(2);
        assertThat(d.get("messages").asLong()).isEqualTo(2);
        assertThat(d.get("bytes").asLong()).isEqualTo(8);
        assertThat(d.get("retention").isObject()).isTrue();
        assertThat(d.get("retention").size()).as("unlimited by default").isZero();
        assertThat(d.get("subscribers").isObject()).isTrue();
        assertThat(d.get("created").asText()).matches(Wire.TIME);

        HttpResponse<String> list = server.get("/v1/topics");
        assertThat(list.statusCode()).isEqualTo(200);
        JsonNode topics = json(list).get("topics");
        assertThat(topics.isArray()).isTrue();
        List<String> listed = new ArrayList<>();
        topics.forEach(t -> listed.add(t.get("topic").asText()));
        assertThat(listed).contains(a, b).isSorted();
        for (JsonNode t : topics) {
            if (t.get("topic").asText().equals(a)) {
                assertThat(t).isEqualTo(d);
            }
        }
        assertThat(json(server.get("/v1/topics/")).get("topics")).isEqualTo(topics);
    }

    @Test
    void describeOfAnUnknownTopicIs404() {
        assertError(server.get("/v1/topics/" + fresh("nothing")), 404, "topic_not_found");
        assertError(server.get("/v1/topics/" + fresh("nothing") + "/messages?from=1"), 404, "topic_not_found");
    }

    // ---- retention ----

    @Test
    void maxMessagesDropsTheOldestAndAPollFromOneReportsTheGap() {
        String topic = fresh("ret-count");
        for (int i = 1; i <= 5; i++) {
            publishText(server, topic, "m" + i);
        }
        HttpResponse<String> r = put(server, "/v1/topics/" + topic, "{\"maxMessages\":2}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode after = json(r);
        assertThat(after.get("retention")).isEqualTo(json("{\"maxMessages\":2}"));
        assertThat(after.get("firstOffset").asLong()).isEqualTo(4);
        assertThat(after.get("lastOffset").asLong()).isEqualTo(5);
        assertThat(after.get("messages").asLong()).isEqualTo(2);
        assertThat(after.get("bytes").asLong()).isEqualTo(4);
        assertThat(describe(server, topic)).isEqualTo(after);

        JsonNode poll = shortPoll(topic, "?from=1");
        assertThat(poll.get("gap").asBoolean()).isTrue();
        assertThat(offsets(poll)).containsExactly(4L, 5L);
        assertThat(poll.get("next").asLong()).isEqualTo(6);
        JsonNode earliest = shortPoll(topic, "?from=earliest");
        assertThat(earliest.get("gap").asBoolean()).isFalse();
        assertThat(offsets(earliest)).containsExactly(4L, 5L);

        publishText(server, topic, "m6");
        // The writer applies retention right after it acknowledges a publish.
        await().atMost(Duration.ofSeconds(5)).alias("retention applies to new publishes too")
                .until(() -> describe(server, topic).get("firstOffset").asLong() == 5);
        JsonNode d = describe(server, topic);
        assertThat(d.get("lastOffset").asLong()).isEqualTo(6);
        assertThat(d.get("messages").asLong()).isEqualTo(2);
    }

    @Test
    void maxBytesDropsTheOldestUntilUnderTheLimit() {
        String topic = fresh("ret-bytes");
        for (int i = 1; i <= 5; i++) {
            publishText(server, topic, "0123456789");
        }
        JsonNode after = json(put(server, "/v1/topics/" + topic, "{\"maxBytes\":25}"));
        assertThat(after.get("retention")).isEqualTo(json("{\"maxBytes\":25}"));
        assertThat(after.get("firstOffset").asLong()).isEqualTo(4);
        assertThat(after.get("bytes").asLong()).isEqualTo(20);
        JsonNode poll = shortPoll(topic, "?from=2");
        assertThat(poll.get("gap").asBoolean()).isTrue();
        assertThat(offsets(poll)).containsExactly(4L, 5L);
    }

    @Test
    void maxAgeDropsMessagesOnTheWritersTick() {
        String topic = fresh("ret-age");
        for (int i = 1; i <= 3; i++) {
            publishText(server, topic, "old" + i);
        }
        JsonNode set = json(put(server, "/v1/topics/" + topic, "{\"maxAge\":\"1s\"}"));
        assertThat(set.get("retention")).isEqualTo(json("{\"maxAge\":\"1s\"}"));

        await().atMost(Duration.ofSeconds(6)).pollInterval(Duration.ofMillis(100))
                .until(() -> describe(server, topic).get("messages").asLong() == 0);
        JsonNode d = describe(server, topic);
        assertThat(d.get("firstOffset").asLong()).isEqualTo(4);
        assertThat(d.get("lastOffset").asLong()).isEqualTo(3);
        assertThat(d.get("bytes").asLong()).isZero();

        JsonNode poll = shortPoll(topic, "?from=1");
        assertThat(poll.get("messages")).isEmpty();
        assertThat(poll.get("gap").asBoolean()).isTrue();
        assertThat(poll.get("next").asLong()).isEqualTo(4);

        assertThat(publishText(server, topic, "new")).as("offsets are never reused").isEqualTo(4);
        assertThat(texts(shortPoll(topic, "?from=earliest"))).containsExactly("new");
    }

    @Test
    void putReplacesTheRetentionAndAbsentFieldsAreUnlimited() {
        String topic = fresh("ret-replace");
        publishText(server, topic, "a");
        JsonNode first = json(put(server, "/v1/topics/" + topic,
                "{\"maxMessages\":10,\"maxAge\":\"7d\",\"maxBytes\":1000}"));
        assertThat(first.get("retention")).isEqualTo(json("{\"maxMessages\":10,\"maxAge\":\"7d\",\"maxBytes\":1000}"));
        JsonNode second = json(put(server, "/v1/topics/" + topic, "{\"maxAge\":\"2m\"}"));
        assertThat(second.get("retention")).isEqualTo(json("{\"maxAge\":\"2m\"}"));
        assertThat(describe(server, topic).get("retention")).isEqualTo(json("{\"maxAge\":\"2m\"}"));
        JsonNode cleared = json(put(server, "/v1/topics/" + topic, "{}"));
        assertThat(cleared.get("retention").size()).isZero();
        assertThat(cleared.get("messages").asLong()).isEqualTo(1);
    }

    // ---- delete ----

    @Test
    void deleteAnswers204ThenTheTopicIsGone() {
        String topic = fresh("del");
        publishText(server, topic, "a");
        publishText(server, topic, "b");

        HttpResponse<String> r = delete(server, "/v1/topics/" + topic);
        assertThat(r.statusCode()).isEqualTo(204);
        assertThat(r.body()).isEmpty();

        assertError(server.get("/v1/topics/" + topic), 404, "topic_not_found");
        assertError(server.get("/v1/topics/" + topic + "/messages?from=1"), 404, "topic_not_found");
        assertError(delete(server, "/v1/topics/" + topic), 404, "topic_not_found");
        List<String> listed = new ArrayList<>();
        json(server.get("/v1/topics")).get("topics").forEach(t -> listed.add(t.get("topic").asText()));
        assertThat(listed).doesNotContain(topic);

        // Publishing again makes a new topic: its log starts over, nothing of the old one is visible.
        assertThat(publishText(server, topic, "c")).isEqualTo(1);
        assertThat(texts(shortPoll(topic, "?from=1"))).containsExactly("c");
    }

    @Test
    void deleteOfATopicThatNeverExistedIs404() {
        assertError(delete(server, "/v1/topics/" + fresh("never")), 404, "topic_not_found");
    }

    // ---- operations ----

    @Test
    void healthz() {
        HttpResponse<String> r = server.get("/healthz");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(json(r).get("status").asText()).isEqualTo("ok");
        HttpResponse<String> head = server.send(HttpRequest.newBuilder(server.uri("/healthz"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build());
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.body()).isEmpty();
    }

    @Test
    void metricsArePrometheusTextAndCountPublishes() {
        double before = publishedTotal();
        String topic = fresh("metrics");
        publishText(server, topic, "a");
        publishText(server, topic, "b");
        HttpResponse<String> r = server.get("/metrics");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(
                t -> assertThat(t).startsWith("text/plain"));
        assertThat(r.body()).contains("# TYPE switchboard_publish_messages_total counter");
        assertThat(publishedTotal()).isGreaterThanOrEqualTo(before + 2);
    }

    private static double publishedTotal() {
        String body = server.get("/metrics").body();
        Matcher m = Pattern.compile("(?m)^switchboard_publish_messages_total(?:\\{[^}]*})? ([0-9.eE+-]+)$")
                .matcher(body);
        assertThat(m.find()).as("switchboard_publish_messages_total in\n%s", body).isTrue();
        return Double.parseDouble(m.group(1));
    }

    @Test
    void largePublishRoundTripsByteForByte() {
        String topic = fresh("large");
        byte[] payload = new byte[512 * 1024];
        new java.util.Random(7).nextBytes(payload);
        HttpResponse<String> r = server.send(HttpRequest.newBuilder(server.uri("/v1/topics/" + topic + "/messages"))
                .header("Content-Type", "application/octet-stream")
                .POST(HttpRequest.BodyPublishers.ofByteArray(payload)).build());
        assertThat(r.statusCode()).isEqualTo(201);
        JsonNode m = shortPoll(topic, "?from=1").get("messages").get(0);
        assertThat(Base64.getDecoder().decode(m.get("data").asText())).isEqualTo(payload);
        assertThat(describe(server, topic).get("bytes").asLong()).isEqualTo(payload.length);
    }
}
