package dev.switchboard.http;

import static dev.switchboard.http.Wire.assertError;
import static dev.switchboard.http.Wire.describe;
import static dev.switchboard.http.Wire.heldPolls;
import static dev.switchboard.http.Wire.json;
import static dev.switchboard.http.Wire.publishText;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.testing.RawHttp;
import dev.switchboard.testing.TestServer;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Long polls ({@code ?wait=}) held by the server over real sockets: HttpClient, curl and raw sockets. */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class LongPollTest {
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

    private static String fresh(String what) {
        return "long-poll." + what + "-" + names.incrementAndGet();
    }

    private static CompletableFuture<HttpResponse<String>> poll(HttpClient client, String topic, String query) {
        return client.sendAsync(HttpRequest.newBuilder(server.uri("/v1/topics/" + topic + "/messages?" + query))
                .timeout(Duration.ofSeconds(60)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode ok(CompletableFuture<HttpResponse<String>> f, int seconds) throws Exception {
        HttpResponse<String> r = f.get(seconds, TimeUnit.SECONDS);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return json(r);
    }

    private static void awaitHeld(String topic, int count) {
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
                .until(() -> heldPolls(server, topic) == count);
    }

    // ---- expiry ----

    @Test
    void anExpiredWaitAnswers200WithNoMessagesAndTheOffsetItWaitedFor() throws Exception {
        String topic = fresh("expire");
        for (int i = 0; i < 3; i++) {
            publishText(server, topic, "m" + i);
        }
        long start = System.nanoTime();
        JsonNode next = ok(poll(server.http(), topic, "from=next&wait=500ms"), 10);
        long tookMillis = (System.nanoTime() - start) / 1_000_000;
        assertThat(tookMillis).as("held for the wait").isGreaterThanOrEqualTo(450).isLessThan(5000);
        assertThat(next.get("topic").asText()).isEqualTo(topic);
        assertThat(next.get("messages")).isEmpty();
        assertThat(next.get("next").asLong()).as("lastOffset + 1").isEqualTo(4);
        assertThat(next.get("gap").asBoolean()).isFalse();

        JsonNode beyond = ok(poll(server.http(), topic, "from=10&wait=200ms"), 10);
        assertThat(beyond.get("messages")).isEmpty();
        assertThat(beyond.get("next").asLong()).isEqualTo(10);

        await().atMost(Duration.ofSeconds(5)).alias("an expired poll is no longer held")
                .until(() -> heldPolls(server, topic) == 0);
        assertThat(describe(server, topic).get("lastOffset").asLong()).isEqualTo(3);
    }

    @Test
    void anExpiredWaitOnATopicThatNeverAppearedLeavesNoTopicBehind() throws Exception {
        String topic = fresh("never");
        JsonNode r = ok(poll(server.http(), topic, "from=next&wait=300ms"), 10);
        assertThat(r.get("messages")).isEmpty();
        assertThat(r.get("next").asLong()).isEqualTo(1);
        assertThat(r.get("gap").asBoolean()).isFalse();
        assertThat(describe(server, topic)).isNull();
        assertError(server.get("/v1/topics/" + topic + "/messages"), 404, "topic_not_found");
        List<String> listed = new ArrayList<>();
        json(server.get("/v1/topics")).get("topics").forEach(t -> listed.add(t.get("topic").asText()));
        assertThat(listed).doesNotContain(topic);
    }

    // ---- answering ----

    @Test
    void aLongPollForMessagesThatExistAnswersAtOnce() throws Exception {
        String topic = fresh("existing");
        publishText(server, topic, "a");
        publishText(server, topic, "b");
        long start = System.nanoTime();
        JsonNode r = ok(poll(server.http(), topic, "from=1&wait=30s"), 10);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        assertThat(r.get("messages")).hasSize(2);
        assertThat(r.get("next").asLong()).isEqualTo(3);
    }

    @Test
    void aHeldPollAnswersPromptlyWhenAMessageIsPublished() throws Exception {
        String topic = fresh("prompt");
        publishText(server, topic, "old");
        CompletableFuture<HttpResponse<String>> held = poll(server.http(), topic, "from=next&wait=30s");
        awaitHeld(topic, 1);
        assertThat(held).isNotDone();

        long published = System.nanoTime();
        publishText(server, topic, "fresh");
        JsonNode r = ok(held, 10);
        assertThat(Duration.ofNanos(System.nanoTime() - published)).as("well before the 30s wait")
                .isLessThan(Duration.ofSeconds(3));
        assertThat(r.get("messages")).hasSize(1);
        JsonNode m = r.get("messages").get(0);
        assertThat(m.get("offset").asLong()).isEqualTo(2);
        assertThat(m.get("data").asText()).isEqualTo("fresh");
        assertThat(m.get("time").asText()).matches(Wire.TIME);
        assertThat(r.get("next").asLong()).isEqualTo(3);
        assertThat(r.get("gap").asBoolean()).isFalse();
        await().atMost(Duration.ofSeconds(5)).until(() -> heldPolls(server, topic) == 0);
    }

    @Test
    void aLongPollOnATopicThatDoesNotExistYetGetsItsFirstMessage() throws Exception {
        // Three topics that do not exist: their descriptions are 404 and cannot count held polls, but delivery
        // opens a feed for each awaited topic, which the switchboard_feeds gauge shows.
        String prefix = fresh("first");
        Map<String, String> fromByTopic = Map.of(prefix + ".a", "next", prefix + ".b", "earliest", prefix + ".c", "1");
        double topicsBefore = gauge("switchboard_feeds");
        Map<String, CompletableFuture<HttpResponse<String>>> polls = new HashMap<>();
        fromByTopic.forEach((topic, from) ->
                polls.put(topic, poll(server.http(), topic, "from=" + from + "&wait=30s")));
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
                .until(() -> gauge("switchboard_feeds") == topicsBefore + 3);
        for (String topic : fromByTopic.keySet()) {
            assertThat(describe(server, topic)).isNull();
            assertThat(polls.get(topic)).isNotDone();
        }

        for (String topic : fromByTopic.keySet()) {
            server.post("/v1/topics/" + topic + "/messages", "application/json", "{\"hello\":\"" + topic + "\"}");
        }
        for (String topic : fromByTopic.keySet()) {
            JsonNode r = ok(polls.get(topic), 10);
            assertThat(r.get("topic").asText()).isEqualTo(topic);
            assertThat(r.get("messages")).as("from=%s", fromByTopic.get(topic)).hasSize(1);
            assertThat(r.get("messages").get(0).get("offset").asLong()).isEqualTo(1);
            assertThat(r.get("messages").get(0).get("data")).isEqualTo(json("{\"hello\":\"" + topic + "\"}"));
            assertThat(r.get("next").asLong()).isEqualTo(2);
        }
    }

    /** A gauge of {@code GET /metrics}. */
    private static double gauge(String name) {
        String body = server.get("/metrics").body();
        Matcher m = Pattern.compile("(?m)^" + name + "(?:\\{[^}]*})? ([0-9.eE+-]+)$").matcher(body);
        assertThat(m.find()).as("%s in /metrics", name).isTrue();
        return Double.parseDouble(m.group(1));
    }

    @Test
    void aTopicDeletedDuringTheWaitAnswers404() throws Exception {
        String topic = fresh("deleted");
        publishText(server, topic, "a");
        CompletableFuture<HttpResponse<String>> held = poll(server.http(), topic, "from=next&wait=30s");
        awaitHeld(topic, 1);
        assertThat(Wire.delete(server, "/v1/topics/" + topic).statusCode()).isEqualTo(204);
        HttpResponse<String> r = held.get(10, TimeUnit.SECONDS);
        assertError(r, 404, "topic_not_found");
    }

    @Test
    void aRetentionGapIsReportedToAHeldReaderNotSkipped() throws Exception {
        String topic = fresh("gap");
        publishText(server, topic, "1");
        assertThat(Wire.put(server, "/v1/topics/" + topic, "{\"maxMessages\":1}").statusCode()).isEqualTo(200);
        // Held for offset 2, which retention keeps (it drops 1): no gap. A later reader from 2 after 2 and 3 were
        // dropped is answered at once, told of the gap, and starts at the first retained offset.
        CompletableFuture<HttpResponse<String>> held = poll(server.http(), topic, "from=2&wait=30s");
        awaitHeld(topic, 1);
        publishText(server, topic, "2");
        JsonNode r = ok(held, 10);
        assertThat(r.get("messages").get(0).get("offset").asLong()).isEqualTo(2);
        assertThat(r.get("gap").asBoolean()).isFalse();
        publishText(server, topic, "3");
        publishText(server, topic, "4");
        // The writer applies retention right after it acknowledges a publish, so wait for it to have dropped 3.
        await().atMost(Duration.ofSeconds(5)).until(() -> describe(server, topic).get("firstOffset").asLong() == 4);
        JsonNode late = ok(poll(server.http(), topic, "from=2&wait=30s"), 10);
        assertThat(late.get("gap").asBoolean()).isTrue();
        assertThat(late.get("messages").get(0).get("offset").asLong()).isEqualTo(4);
    }

    // ---- many at once ----

    @Test
    void aThousandConcurrentLongPollsAreHeldThenEachGetsItsMessage() throws Exception {
        int topics = 500;
        String prefix = fresh("many");
        List<String> names = new ArrayList<>();
        for (int i = 0; i < topics; i++) {
            names.add(prefix + ".t" + i);
        }
        // Create the topics (offset 1 each) so their descriptions can count the held polls.
        List<CompletableFuture<HttpResponse<String>>> creates = new ArrayList<>();
        for (String name : names) {
            creates.add(server.http().sendAsync(HttpRequest.newBuilder(server.uri("/v1/topics/" + name + "/messages"))
                    .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString("seed")).build(),
                    HttpResponse.BodyHandlers.ofString()));
            if (creates.size() % 50 == 0) {
                CompletableFuture.allOf(creates.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
            }
        }
        for (CompletableFuture<HttpResponse<String>> c : creates) {
            assertThat(c.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(201);
        }

        List<HttpClient> clients = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            clients.add(HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(10)).build());
        }
        try {
            // Two polls per topic, 1,000 in all: one from=next, one from the offset it will get (2).
            List<CompletableFuture<HttpResponse<String>>> polls = new ArrayList<>();
            for (int i = 0; i < topics; i++) {
                polls.add(poll(clients.get(i % 4), names.get(i), "from=next&wait=60s"));
                polls.add(poll(clients.get((i + 1) % 4), names.get(i), "from=2&wait=60s&limit=5"));
            }
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                    .until(() -> heldIn(prefix) == 2 * topics);
            assertThat(polls).as("none answered before its message").noneMatch(CompletableFuture::isDone);

            List<CompletableFuture<HttpResponse<String>>> publishes = new ArrayList<>();
            for (int i = 0; i < topics; i++) {
                publishes.add(server.http().sendAsync(HttpRequest.newBuilder(
                                server.uri("/v1/topics/" + names.get(i) + "/messages"))
                        .header("Content-Type", "application/json").timeout(Duration.ofSeconds(30))
                        .POST(HttpRequest.BodyPublishers.ofString("{\"for\":\"" + names.get(i) + "\"}")).build(),
                        HttpResponse.BodyHandlers.ofString()));
                if (publishes.size() % 50 == 0) {
                    CompletableFuture.allOf(publishes.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
                }
            }
            CompletableFuture.allOf(polls.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
            for (int i = 0; i < polls.size(); i++) {
                String topic = names.get(i / 2);
                JsonNode r = ok(polls.get(i), 1);
                assertThat(r.get("topic").asText()).isEqualTo(topic);
                assertThat(r.get("messages")).as("answer of poll %d", i).hasSize(1);
                JsonNode m = r.get("messages").get(0);
                assertThat(m.get("offset").asLong()).isEqualTo(2);
                assertThat(m.get("data").get("for").asText()).isEqualTo(topic);
                assertThat(r.get("next").asLong()).isEqualTo(3);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> heldIn(prefix) == 0);
        } finally {
            clients.forEach(HttpClient::shutdownNow);
        }
    }

    /** Long polls held on every topic whose name starts with the prefix. */
    private static int heldIn(String prefix) {
        int held = 0;
        for (JsonNode t : json(server.get("/v1/topics")).get("topics")) {
            if (t.get("topic").asText().startsWith(prefix)) {
                held += t.path("subscribers").path("longpoll").asInt(0);
            }
        }
        return held;
    }

    // ---- other clients ----

    @Test
    void longPollWithCurl() throws Exception {
        String topic = fresh("curl");
        publishText(server, topic, "before");
        Process curl = new ProcessBuilder("/usr/bin/curl", "-s", "--max-time", "20",
                server.url() + "/v1/topics/" + topic + "/messages?from=next&wait=10s")
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            awaitHeld(topic, 1);
            assertThat(curl.isAlive()).isTrue();
            publishText(server, topic, "for curl");
            assertThat(curl.waitFor(10, TimeUnit.SECONDS)).as("curl finished").isTrue();
            assertThat(curl.exitValue()).isZero();
            String out = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            JsonNode r = json(out);
            assertThat(r.get("topic").asText()).isEqualTo(topic);
            assertThat(r.get("messages")).hasSize(1);
            assertThat(r.get("messages").get(0).get("offset").asLong()).isEqualTo(2);
            assertThat(r.get("messages").get(0).get("data").asText()).isEqualTo("for curl");
            assertThat(r.get("next").asLong()).isEqualTo(3);
        } finally {
            curl.destroyForcibly();
        }
    }

    @Test
    void aClientThatDisconnectsMidWaitDoesNotBreakLaterPolls() throws Exception {
        String topic = fresh("disconnect");
        publishText(server, topic, "a");
        for (int i = 0; i < 3; i++) {
            RawHttp raw = new RawHttp(server.port(), 5000);
            raw.write("GET /v1/topics/" + topic + "/messages?from=next&wait=30s HTTP/1.1\r\nHost: localhost\r\n\r\n");
            awaitHeld(topic, 1);
            raw.close();
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
                    .until(() -> heldPolls(server, topic) == 0);
        }
        CompletableFuture<HttpResponse<String>> held = poll(server.http(), topic, "from=next&wait=30s");
        awaitHeld(topic, 1);
        publishText(server, topic, "b");
        JsonNode r = ok(held, 10);
        assertThat(r.get("messages").get(0).get("data").asText()).isEqualTo("b");
        assertThat(describe(server, topic).get("lastOffset").asLong()).isEqualTo(2);
    }

    @Test
    void pipelinedRequestsOnOneConnectionAreAnsweredInOrder() {
        String topic = fresh("pipeline");
        for (int i = 1; i <= 3; i++) {
            publishText(server, topic, "m" + i);
        }
        try (RawHttp raw = new RawHttp(server.port(), 10_000)) {
            String base = "/v1/topics/" + topic + "/messages";
            raw.write("GET " + base + "?from=3 HTTP/1.1\r\nHost: localhost\r\n\r\n"
                    + "GET " + base + "?from=1&limit=1 HTTP/1.1\r\nHost: localhost\r\n\r\n"
                    + "GET /v1/topics/" + topic + " HTTP/1.1\r\nHost: localhost\r\n\r\n"
                    + "GET /nope HTTP/1.1\r\nHost: localhost\r\n\r\n");
            RawHttp.Response first = raw.read();
            assertThat(first.status()).isEqualTo(200);
            assertThat(json(first.body()).get("messages").get(0).get("offset").asLong()).isEqualTo(3);
            RawHttp.Response second = raw.read();
            assertThat(json(second.body()).get("messages")).hasSize(1);
            assertThat(json(second.body()).get("messages").get(0).get("offset").asLong()).isEqualTo(1);
            RawHttp.Response third = raw.read();
            assertThat(json(third.body()).get("lastOffset").asLong()).isEqualTo(3);
            assertError(raw.read(), 404, "not_found");
        }
    }

    @Test
    void pipelinedRequestsWaitBehindAHeldLongPoll() {
        String topic = fresh("pipeline-held");
        publishText(server, topic, "m1");
        try (RawHttp raw = new RawHttp(server.port(), 10_000)) {
            raw.write("GET /v1/topics/" + topic + "/messages?from=next&wait=30s HTTP/1.1\r\nHost: localhost\r\n\r\n"
                    + "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"
                    + "POST /v1/topics/" + topic + "/messages HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\n"
                    + "Content-Length: 6\r\n\r\nbehind");
            awaitHeld(topic, 1);
            // The publish pipelined behind the poll is not processed before the poll is answered.
            assertThat(describe(server, topic).get("lastOffset").asLong()).isEqualTo(1);
            publishText(server, topic, "m2");
            RawHttp.Response poll = raw.read();
            assertThat(poll.status()).isEqualTo(200);
            JsonNode messages = json(poll.body()).get("messages");
            assertThat(messages).hasSize(1);
            assertThat(messages.get(0).get("data").asText()).isEqualTo("m2");
            RawHttp.Response health = raw.read();
            assertThat(health.status()).isEqualTo(200);
            assertThat(json(health.body()).get("status").asText()).isEqualTo("ok");
            RawHttp.Response published = raw.read();
            assertThat(published.status()).isEqualTo(201);
            assertThat(json(published.body()).get("offset").asLong()).isEqualTo(3);
        }
    }

    @Test
    void pipelinedPublishesAreStoredAndAnsweredInOrder() {
        String topic = fresh("pipeline-pub");
        StringBuilder requests = new StringBuilder();
        for (int i = 1; i <= 10; i++) {
            String body = "p" + i;
            requests.append("POST /v1/topics/").append(topic).append("/messages HTTP/1.1\r\nHost: localhost\r\n")
                    .append("Content-Type: text/plain\r\nContent-Length: ").append(body.length()).append("\r\n\r\n")
                    .append(body);
        }
        try (RawHttp raw = new RawHttp(server.port(), 10_000)) {
            raw.write(requests.toString());
            for (int i = 1; i <= 10; i++) {
                RawHttp.Response r = raw.read();
                assertThat(r.status()).isEqualTo(201);
                assertThat(json(r.body()).get("offset").asLong()).isEqualTo(i);
            }
        }
        List<String> stored = new ArrayList<>();
        json(server.get("/v1/topics/" + topic + "/messages?from=1").body()).get("messages")
                .forEach(m -> stored.add(m.get("data").asText()));
        assertThat(stored).containsExactly("p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9", "p10");
    }

    @Test
    void aReadPipelinedBehindPublishesSeesThemAllAndARefusedPublishKeepsItsPlace() {
        String topic = fresh("pipeline-mixed");
        StringBuilder requests = new StringBuilder();
        for (String body : List.of("a1", "{bad", "a3", "a4")) {
            String type = body.startsWith("{") ? "application/json" : "text/plain";
            requests.append("POST /v1/topics/").append(topic).append("/messages HTTP/1.1\r\nHost: localhost\r\n")
                    .append("Content-Type: ").append(type).append("\r\nContent-Length: ").append(body.length())
                    .append("\r\n\r\n").append(body);
        }
        requests.append("GET /v1/topics/").append(topic).append("/messages?from=1 HTTP/1.1\r\nHost: localhost\r\n\r\n");
        requests.append("POST /v1/topics/").append(topic)
                .append("/messages HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\na6");
        try (RawHttp raw = new RawHttp(server.port(), 10_000)) {
            raw.write(requests.toString());
            assertThat(json(raw.read().body()).get("offset").asLong()).isEqualTo(1);
            assertError(raw.read(), 400, "invalid_json");
            assertThat(json(raw.read().body()).get("offset").asLong()).isEqualTo(2);
            assertThat(json(raw.read().body()).get("offset").asLong()).isEqualTo(3);
            List<String> read = new ArrayList<>();
            json(raw.read().body()).get("messages").forEach(m -> read.add(m.get("data").asText()));
            assertThat(read).containsExactly("a1", "a3", "a4");
            assertThat(json(raw.read().body()).get("offset").asLong()).isEqualTo(4);
        }
    }

    @Test
    void atMostSixteenRequestsMayWaitBehindAHeldPoll() {
        String topic = fresh("pipeline-limit");
        publishText(server, topic, "m1");
        String held = "GET /v1/topics/" + topic + "/messages?from=next&wait=30s HTTP/1.1\r\nHost: localhost\r\n\r\n";
        String health = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n";
        try (RawHttp raw = new RawHttp(server.port(), 10_000)) {
            raw.write(held + health.repeat(16));
            awaitHeld(topic, 1);
            publishText(server, topic, "m2");
            assertThat(json(raw.read().body()).get("messages").get(0).get("data").asText()).isEqualTo("m2");
            for (int i = 0; i < 16; i++) {
                assertThat(raw.read().status()).isEqualTo(200);
            }
        }
        try (RawHttp raw = new RawHttp(server.port(), 10_000)) {
            raw.write(held + health.repeat(17));
            assertThat(raw.readUntilClosed()).as("closed without answers").isEmpty();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> heldPolls(server, topic) == 0);
        assertThat(server.get("/healthz").statusCode()).isEqualTo(200);
    }

    @Test
    void aHeldPollSurvivesTheHeaderTimeout() throws Exception {
        // The header timeout guards request heads; a held poll's connection must not be closed by it.
        try (TestServer quick = TestServer.start(
                cfg -> cfg.withLimits(Wire.withHeaderTimeout(cfg.limits(), Duration.ofMillis(300))))) {
            publishText(quick, "t", "a");
            CompletableFuture<HttpResponse<String>> held = quick.http().sendAsync(
                    HttpRequest.newBuilder(quick.uri("/v1/topics/t/messages?from=next&wait=1500ms"))
                            .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            HttpResponse<String> r = held.get(10, TimeUnit.SECONDS);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(json(r).get("next").asLong()).isEqualTo(2);
        }
    }
}
