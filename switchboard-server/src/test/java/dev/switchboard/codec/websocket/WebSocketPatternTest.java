package dev.switchboard.codec.websocket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.config.Limits;
import dev.switchboard.testing.JsonFrames;
import dev.switchboard.testing.Slow;
import dev.switchboard.testing.Tokens;
import dev.switchboard.testing.TestServer;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Pattern subscriptions over real WebSockets (JDK client) on a real server: topics that exist and topics created
 * later, unsubscribing, the limits, the token's rights, and the Redis engine.
 */
class WebSocketPatternTest {
    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : open.reversed()) {
            c.close();
        }
    }

    private TestServer server(TestServer s) {
        open.add(s);
        return s;
    }

    private static void publish(TestServer s, String topic, String text) {
        HttpResponse<String> r = s.post("/v1/topics/" + topic + "/messages", "text/plain", text);
        assertThat(r.statusCode()).as(r.body()).isIn(200, 201);
    }

    /** The messages received, as topic@offset=data. */
    private static List<String> messages(JsonFrames frames) {
        return frames.ops.stream().filter(o -> o.path("op").asText().equals("message"))
                .map(o -> o.get("topic").asText() + "@" + o.get("offset").asLong() + "=" + o.get("data").asText())
                .toList();
    }

    private static void send(WebSocket ws, String op) {
        ws.sendText(op, true).join();
    }

    /** Waits until {@code expected} arrived, then checks that nothing else did. */
    private static void receivedExactly(JsonFrames frames, String... expected) {
        await().atMost(Duration.ofSeconds(10)).until(() -> messages(frames).size() >= expected.length);
        assertThat(messages(frames)).containsExactlyInAnyOrder(expected);
    }

    /** A new connection that sent {@code subscribe} (with id "p") and was answered with {@code following}. */
    private static JsonFrames subscribed(TestServer s, String subscribe, String following) {
        JsonFrames frames = new JsonFrames();
        send(JsonFrames.connect(s, null, "", frames), subscribe);
        JsonNode reply = frames.reply("p");
        assertThat(reply.path("op").asText()).isEqualTo("subscribed");
        assertThat(reply.path("pattern").asBoolean()).isTrue();
        assertThat(reply.get("following").toString()).isEqualTo(following);
        return frames;
    }

    @Test
    void followsMatchingTopicsThatExistAndThoseCreatedLater() {
        TestServer s = server(TestServer.start());
        followsTopicsBeforeAndAfter(s);
    }

    @Test
    @Slow // starts a redis-server
    void onTheRedisEngineToo() {
        TestServer s = server(TestServer.onRedis(c -> c));
        followsTopicsBeforeAndAfter(s);
    }

    private void followsTopicsBeforeAndAfter(TestServer s) {
        publish(s, "chat.a", "old");
        publish(s, "other.x", "no");
        JsonFrames frames = subscribed(s, "{\"op\":\"subscribe\",\"topic\":\"chat.*\",\"from\":\"next\",\"id\":\"p\"}",
                "{\"chat.a\":2}");

        publish(s, "chat.a", "a2");
        publish(s, "chat.b", "b1"); // created after the subscribe: followed from its first message
        publish(s, "chat.b.deep", "no"); // '*' is one segment
        publish(s, "other.x", "no");
        publish(s, "chat.b", "b2");
        receivedExactly(frames, "chat.a@2=a2", "chat.b@1=b1", "chat.b@2=b2");
    }

    @Test
    void earliestStartsEveryExistingTopicAtItsFirstMessage() {
        TestServer s = server(TestServer.start());
        publish(s, "chat.a", "a1");
        publish(s, "chat.b", "b1");
        JsonFrames frames = subscribed(s, "{\"op\":\"subscribe\",\"topic\":\"chat.>\",\"from\":\"earliest\",\"id\":\"p\"}",
                "{\"chat.a\":1,\"chat.b\":1}");
        publish(s, "chat.c.d", "c1");
        receivedExactly(frames, "chat.a@1=a1", "chat.b@1=b1", "chat.c.d@1=c1");
    }

    @Test
    void resumesEachTopicAtItsOwnOffsetAndUnlistedTopicsFromTheirFirst() {
        TestServer s = server(TestServer.start());
        for (int i = 1; i <= 3; i++) {
            publish(s, "chat.a", "a" + i);
        }
        publish(s, "chat.b", "b1");
        JsonFrames frames = subscribed(s, "{\"op\":\"subscribe\",\"topic\":\"chat.*\",\"from\":{\"chat.a\":3},\"id\":\"p\"}",
                "{\"chat.a\":3,\"chat.b\":1}");
        receivedExactly(frames, "chat.a@3=a3", "chat.b@1=b1");
    }

    @Test
    void unsubscribingThePatternEndsAllItsTopics() {
        TestServer s = server(TestServer.start());
        publish(s, "chat.a", "a1");
        JsonFrames frames = new JsonFrames();
        WebSocket ws = JsonFrames.connect(s, null, "", frames);
        send(ws, "{\"op\":\"subscribe\",\"topic\":\"chat.*\",\"id\":\"p\"}");
        frames.reply("p");
        publish(s, "chat.b", "b1");
        receivedExactly(frames, "chat.b@1=b1");
        send(ws, "{\"op\":\"unsubscribe\",\"topic\":\"chat.*\",\"id\":\"u\"}");
        assertThat(frames.reply("u").path("op").asText()).isEqualTo("unsubscribed");
        send(ws, "{\"op\":\"subscribe\",\"topic\":\"marker\",\"id\":\"m\"}");
        frames.reply("m");
        publish(s, "chat.a", "a2");
        publish(s, "chat.b", "b2");
        publish(s, "chat.c", "c1");
        publish(s, "marker", "end");
        // the marker is published last: the chat messages would have been delivered before it
        receivedExactly(frames, "chat.b@1=b1", "marker@1=end");
        send(ws, "{\"op\":\"unsubscribe\",\"topic\":\"chat.*\",\"id\":\"again\"}");
        assertThat(frames.reply("again").path("code").asText()).isEqualTo("not_subscribed");
    }

    @Test
    void aTopicCoveredByAPatternAndByNameIsDeliveredOncePerSubscription() {
        TestServer s = server(TestServer.start());
        JsonFrames frames = new JsonFrames();
        WebSocket ws = JsonFrames.connect(s, null, "", frames);
        send(ws, "{\"op\":\"subscribe\",\"topic\":\"chat.a\",\"id\":\"exact\"}");
        frames.reply("exact");
        send(ws, "{\"op\":\"subscribe\",\"topic\":\"chat.*\",\"id\":\"p\"}");
        frames.reply("p");
        publish(s, "chat.a", "hi");
        receivedExactly(frames, "chat.a@1=hi", "chat.a@1=hi");
        send(ws, "{\"op\":\"unsubscribe\",\"topic\":\"chat.*\",\"id\":\"u\"}");
        frames.reply("u");
        publish(s, "chat.a", "again");
        receivedExactly(frames, "chat.a@1=hi", "chat.a@1=hi", "chat.a@2=again");
    }

    @Test
    void badPatternsAndStartsAreRefusedAndChangeNothing() {
        TestServer s = server(TestServer.start());
        publish(s, "chat.a", "a1");
        JsonFrames frames = new JsonFrames();
        WebSocket ws = JsonFrames.connect(s, null, "", frames);
        Map<String, String> refused = Map.of(
                "{\"op\":\"subscribe\",\"topic\":\"chat.>.x\",\"id\":\"1\"}", "invalid_topic",
                "{\"op\":\"subscribe\",\"topic\":\"chat.*x\",\"id\":\"2\"}", "invalid_topic",
                "{\"op\":\"subscribe\",\"topic\":\"chat.*\",\"from\":5,\"id\":\"3\"}", "invalid_from",
                "{\"op\":\"subscribe\",\"topic\":\"chat.*\",\"from\":{\"other.a\":1},\"id\":\"4\"}", "invalid_from",
                "{\"op\":\"subscribe\",\"topic\":\"chat.*\",\"from\":{\"chat.a\":0},\"id\":\"5\"}", "invalid_from",
                "{\"op\":\"unsubscribe\",\"topic\":\"chat.*\",\"id\":\"6\"}", "not_subscribed");
        refused.forEach((op, code) -> {
            send(ws, op);
            assertThat(frames.reply(op.replaceAll(".*\"id\":\"(\\d)\".*", "$1")).path("code").asText()).as(op)
                    .isEqualTo(code);
        });
        publish(s, "chat.a", "a2");
        send(ws, "{\"op\":\"subscribe\",\"topic\":\"marker\",\"id\":\"m\"}");
        frames.reply("m");
        publish(s, "marker", "end");
        receivedExactly(frames, "marker@1=end");
        assertThat(frames.closeCode).isNotDone();
    }

    @Test
    void patternsPerConnectionAreBounded() {
        TestServer s = server(TestServer.start());
        JsonFrames frames = new JsonFrames();
        WebSocket ws = JsonFrames.connect(s, null, "", frames);
        for (int i = 0; i < PatternSubscriptions.MAX_PATTERNS; i++) {
            send(ws, "{\"op\":\"subscribe\",\"topic\":\"p" + i + ".*\",\"id\":\"" + i + "\"}");
        }
        assertThat(frames.reply(Integer.toString(PatternSubscriptions.MAX_PATTERNS - 1)).path("op").asText())
                .isEqualTo("subscribed");
        send(ws, "{\"op\":\"subscribe\",\"topic\":\"one.more.*\",\"id\":\"over\"}");
        JsonNode over = frames.reply("over");
        assertThat(over.path("code").asText()).isEqualTo("limit_exceeded");
        assertThat(over.path("message").asText()).contains("at most 64 patterns");
        // subscribing to a pattern it already has is no new pattern
        send(ws, "{\"op\":\"subscribe\",\"topic\":\"p0.*\",\"from\":\"earliest\",\"id\":\"again\"}");
        assertThat(frames.reply("again").path("op").asText()).isEqualTo("subscribed");
    }

    @Test
    void aPatternFollowsAtMostItsBoundOfTopicsAndNamesEachTopicRefused() {
        TestServer s = server(TestServer.start());
        for (int first = 0; first < PatternSubscriptions.MAX_TOPICS_PER_PATTERN; first += 50) {
            List<CompletableFuture<HttpResponse<String>>> created = new ArrayList<>();
            for (int i = first; i < first + 50; i++) {
                created.add(s.http().sendAsync(HttpRequest.newBuilder(URI.create(s.url() + "/v1/topics/many.t" + i
                        + "/messages")).POST(HttpRequest.BodyPublishers.ofString("x")).build(),
                        HttpResponse.BodyHandlers.ofString()));
            }
            assertThat(created).allSatisfy(f -> assertThat(f.join().statusCode()).isEqualTo(201));
        }
        JsonFrames frames = new JsonFrames();
        WebSocket ws = JsonFrames.connect(s, null, "", frames);
        send(ws, "{\"op\":\"subscribe\",\"topic\":\"many.*\",\"id\":\"p\"}");
        assertThat(frames.reply("p").get("following").size()).isEqualTo(PatternSubscriptions.MAX_TOPICS_PER_PATTERN);
        publish(s, "many.late", "x");
        await().atMost(Duration.ofSeconds(10)).until(() -> frames.ops.stream()
                .anyMatch(o -> o.path("op").asText().equals("error")));
        JsonNode refused = frames.ops.stream().filter(o -> o.path("op").asText().equals("error")).findFirst()
                .orElseThrow();
        assertThat(refused.path("code").asText()).isEqualTo("limit_exceeded");
        assertThat(refused.path("topic").asText()).isEqualTo("many.late");
        assertThat(refused.path("pattern").asText()).isEqualTo("many.*");
        // a pattern that already matches more than the bound is refused whole
        send(ws, "{\"op\":\"subscribe\",\"topic\":\"many.>\",\"id\":\"wide\"}");
        assertThat(frames.reply("wide").path("code").asText()).isEqualTo("limit_exceeded");
        send(ws, "{\"op\":\"unsubscribe\",\"topic\":\"many.>\",\"id\":\"u\"}");
        assertThat(frames.reply("u").path("code").asText()).isEqualTo("not_subscribed");
        publish(s, "many.t0", "y");
        receivedExactly(frames, "many.t0@2=y");
    }

    @Test
    void theTopicsOfPatternsCountTowardTheConnectionsSubscriptions() {
        Limits three = limitsWithSubscriptions(3);
        TestServer s = server(TestServer.start(c -> c.withLimits(three)));
        publish(s, "a.1", "x");
        publish(s, "a.2", "x");
        JsonFrames frames = new JsonFrames();
        WebSocket ws = JsonFrames.connect(s, null, "", frames);
        send(ws, "{\"op\":\"subscribe\",\"topic\":\"solo\",\"id\":\"e\"}");
        frames.reply("e");
        send(ws, "{\"op\":\"subscribe\",\"topic\":\"a.*\",\"id\":\"p\"}");
        assertThat(frames.reply("p").get("following").size()).isEqualTo(2);
        send(ws, "{\"op\":\"subscribe\",\"topic\":\"another\",\"id\":\"full\"}");
        assertThat(frames.reply("full").path("code").asText()).isEqualTo("limit_exceeded");
        publish(s, "a.3", "x");
        await().atMost(Duration.ofSeconds(10)).until(() -> frames.ops.stream()
                .anyMatch(o -> o.path("op").asText().equals("error") && o.path("topic").asText().equals("a.3")));
        // once one ends, there is room again
        send(ws, "{\"op\":\"unsubscribe\",\"topic\":\"solo\",\"id\":\"u\"}");
        frames.reply("u");
        publish(s, "a.4", "x4");
        receivedExactly(frames, "a.4@1=x4");
    }

    private static Limits limitsWithSubscriptions(int max) {
        Limits d = Limits.defaults();
        return new Limits(d.maxMessageBytes(), d.maxBatchMessages(), d.maxHeaderBytes(), d.maxPollLimit(),
                d.maxPollResponseBytes(), d.maxWait(), d.maxTopics(), max, d.maxConnections(),
                d.maxPendingPublishes(), d.maxIdempotencyKeyLength(), d.headerTimeout(), d.idleTimeout(),
                d.slowConsumerTimeout(), d.tailCacheBytes(), d.answerTimeout(), d.maxConnectionsPerAddress(),
                d.maxPublishRatePerConnection(), d.maxPublishRatePerSubject());
    }

    @Test
    void aPatternNeedsARightCoveringEverythingItCanMatch() {
        Tokens tokens = Tokens.hs256InTempDir();
        open.add(tokens::deleteSecret);
        TestServer s = server(TestServer.start(c -> c.withAuth(tokens.config())));
        String chatReader = tokens.sign(Tokens.claims("reader", Tokens.rights(List.of(), List.of("chat.>"), List.of(),
                List.of(), false)));
        String roomReader = tokens.sign(Tokens.claims("room", Tokens.rights(List.of(), List.of("chat.*"), List.of(),
                List.of(), false)));
        JsonFrames frames = new JsonFrames();
        WebSocket ws = JsonFrames.connect(s, chatReader, "", frames);
        Map<String, String> answers = Map.of("chat.*", "subscribed", "chat.*.msgs", "subscribed", "chat.>", "subscribed",
                ">", "error", "*.a", "error", "_presence.chat.*", "subscribed");
        answers.forEach((pattern, op) -> {
            send(ws, "{\"op\":\"subscribe\",\"topic\":\"" + pattern + "\",\"id\":\"" + pattern + "\"}");
            JsonNode reply = frames.reply(pattern);
            assertThat(reply.path("op").asText()).as(pattern).isEqualTo(op);
            if (op.equals("error")) {
                assertThat(reply.path("code").asText()).isEqualTo("forbidden");
            }
        });
        JsonFrames roomFrames = new JsonFrames();
        WebSocket narrow = JsonFrames.connect(s, roomReader, "", roomFrames);
        send(narrow, "{\"op\":\"subscribe\",\"topic\":\"chat.>\",\"id\":\"wide\"}");
        assertThat(roomFrames.reply("wide").path("code").asText()).isEqualTo("forbidden");
        send(narrow, "{\"op\":\"unsubscribe\",\"topic\":\"chat.>\",\"id\":\"u\"}");
        assertThat(roomFrames.reply("u").path("code").asText()).isEqualTo("not_subscribed");
    }
}
