package dev.switchboard.stream;

import static dev.switchboard.stream.StreamFixtures.describe;
import static dev.switchboard.stream.StreamFixtures.publish;
import static dev.switchboard.stream.StreamFixtures.setRetention;
import static dev.switchboard.stream.StreamFixtures.subscribers;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.config.ServerConfig;
import dev.switchboard.testing.TestServer;
import java.io.EOFException;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code /v1/ws} with the JDK WebSocket client (and a bare socket where the JDK client is too polite). One server for
 * the class; every test uses its own topics.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WebSocketTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String TIME = "\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z";

    private TestServer server;
    private final List<AutoCloseable> open = new ArrayList<>();

    @BeforeAll
    void start() {
        server = TestServer.start();
    }

    @AfterEach
    void closeClients() throws Exception {
        for (AutoCloseable c : open) {
            c.close();
        }
        open.clear();
    }

    @AfterAll
    void stop() {
        server.close();
    }

    private WsClient ws(String pathAndQuery) {
        WsClient c = WsClient.connect(server, pathAndQuery);
        open.add(c);
        return c;
    }

    private WsClient ws() {
        return ws("/v1/ws");
    }

    private static void assertMessage(JsonNode m, String topic, long offset, String type) {
        assertThat(m.path("op").asText()).as("%s", m).isEqualTo("message");
        assertThat(m.path("topic").asText()).as("%s", m).isEqualTo(topic);
        assertThat(m.path("offset").asLong()).as("%s", m).isEqualTo(offset);
        assertThat(m.path("type").asText()).as("%s", m).isEqualTo(type);
        assertThat(m.path("time").asText()).as("%s", m).matches(TIME);
    }

    @Test
    void subscribeFromEarliestGetsSubscribedThenStoredThenLiveMessages() {
        publish(server, "ws.basic", "one");
        publish(server, "ws.basic", "application/json", "{\"text\":\"two\"}");

        WsClient c = ws();
        c.send("{\"op\":\"subscribe\",\"topic\":\"ws.basic\",\"from\":\"earliest\",\"id\":\"r1\"}");
        JsonNode subscribed = c.next("subscribed");
        assertThat(subscribed.get("id").asText()).isEqualTo("r1");
        assertThat(subscribed.get("topic").asText()).isEqualTo("ws.basic");
        assertThat(subscribed.get("next").asLong()).isEqualTo(1);

        JsonNode first = c.next();
        assertMessage(first, "ws.basic", 1, "text/plain; charset=utf-8");
        assertThat(first.get("data").asText()).isEqualTo("one");
        assertThat(first.has("encoding")).isFalse();
        JsonNode second = c.next();
        assertMessage(second, "ws.basic", 2, "application/json");
        assertThat(second.get("data").isObject()).isTrue();
        assertThat(second.get("data").get("text").asText()).isEqualTo("two");

        publish(server, "ws.basic", "three");
        JsonNode live = c.next();
        assertMessage(live, "ws.basic", 3, "text/plain; charset=utf-8");
        assertThat(live.get("data").asText()).isEqualTo("three");
        assertThat(subscribers(server, "ws.basic", "ws")).isEqualTo(1);
    }

    @Test
    void subscribeFromNextAndFromAnOffset() {
        for (int i = 1; i <= 4; i++) {
            publish(server, "ws.from", "m" + i);
        }
        WsClient fromNext = ws();
        fromNext.send("{\"op\":\"subscribe\",\"topic\":\"ws.from\",\"id\":\"n\"}"); // from defaults to next
        assertThat(fromNext.next("subscribed").get("next").asLong()).isEqualTo(5);
        WsClient fromThree = ws();
        fromThree.send("{\"op\":\"subscribe\",\"topic\":\"ws.from\",\"from\":3,\"id\":\"n3\"}");
        assertThat(fromThree.next("subscribed").get("next").asLong()).isEqualTo(3);
        WsClient fromTwoAsText = ws();
        fromTwoAsText.send("{\"op\":\"subscribe\",\"topic\":\"ws.from\",\"from\":\"2\"}");
        JsonNode subscribed = fromTwoAsText.next("subscribed");
        assertThat(subscribed.get("next").asLong()).isEqualTo(2);
        assertThat(subscribed.has("id")).as("no id given, none echoed").isFalse();

        assertThat(fromThree.next().get("offset").asLong()).isEqualTo(3);
        assertThat(fromThree.next().get("offset").asLong()).isEqualTo(4);
        assertThat(fromTwoAsText.next().get("offset").asLong()).isEqualTo(2);

        publish(server, "ws.from", "m5");
        assertThat(fromNext.next().get("offset").asLong()).as("from next skips what was there").isEqualTo(5);
        assertThat(fromThree.next().get("offset").asLong()).isEqualTo(5);
        assertThat(fromTwoAsText.next().get("offset").asLong()).isEqualTo(3);
    }

    @Test
    void publishOpIsAckedAndReachesOtherSubscribers() {
        WsClient reader = ws();
        reader.send("{\"op\":\"subscribe\",\"topic\":\"ws.pub\",\"from\":\"next\",\"id\":\"r1\"}");
        reader.next("subscribed");
        WsClient writer = ws();

        writer.send("{\"op\":\"publish\",\"topic\":\"ws.pub\",\"data\":{\"text\":\"hi\"},\"id\":\"r3\"}");
        JsonNode ack = writer.next("ack");
        assertThat(ack.get("id").asText()).isEqualTo("r3");
        assertThat(ack.get("offset").asLong()).isEqualTo(1);
        JsonNode m = reader.next();
        assertMessage(m, "ws.pub", 1, "application/json");
        assertThat(m.get("data").get("text").asText()).isEqualTo("hi");

        writer.send("{\"op\":\"publish\",\"topic\":\"ws.pub\",\"data\":\"plain words\",\"id\":\"r4\"}");
        assertThat(writer.next("ack").get("offset").asLong()).isEqualTo(2);
        m = reader.next();
        assertMessage(m, "ws.pub", 2, "text/plain; charset=utf-8");
        assertThat(m.get("data").asText()).isEqualTo("plain words");

        byte[] binary = {(byte) 0xff, 0, 1, (byte) 0x80};
        String b64 = Base64.getEncoder().encodeToString(binary);
        writer.send("{\"op\":\"publish\",\"topic\":\"ws.pub\",\"data\":\"" + b64
                + "\",\"encoding\":\"base64\",\"id\":\"r5\"}");
        assertThat(writer.next("ack").get("offset").asLong()).isEqualTo(3);
        m = reader.next();
        assertMessage(m, "ws.pub", 3, "application/octet-stream");
        assertThat(m.get("encoding").asText()).isEqualTo("base64");
        assertThat(Base64.getDecoder().decode(m.get("data").asText())).isEqualTo(binary);

        writer.send("{\"op\":\"publish\",\"topic\":\"ws.pub\",\"data\":[1,2,3],\"type\":\"application/vnd.x+json\"}");
        JsonNode noIdAck = writer.next("ack");
        assertThat(noIdAck.get("offset").asLong()).isEqualTo(4);
        assertThat(noIdAck.has("id")).isFalse();
        m = reader.next();
        assertMessage(m, "ws.pub", 4, "application/vnd.x+json");
        assertThat(m.get("data").isArray()).isTrue();

        // what was published over WebSocket is stored like any publish
        JsonNode poll = StreamFixtures.json(server.get("/v1/topics/ws.pub/messages?from=1").body());
        assertThat(poll.get("messages")).hasSize(4);
    }

    @Test
    void aPublisherThatAlsoSubscribesGetsItsOwnMessage() {
        WsClient c = ws();
        c.send("{\"op\":\"subscribe\",\"topic\":\"ws.echo\",\"id\":\"s\"}");
        c.next("subscribed");
        c.send("{\"op\":\"publish\",\"topic\":\"ws.echo\",\"data\":\"me\",\"id\":\"p\"}");
        List<JsonNode> frames = List.of(c.next(), c.next());
        assertThat(frames).extracting(f -> f.get("op").asText()).containsExactlyInAnyOrder("ack", "message");
    }

    @Test
    void unsubscribeStopsDelivery() {
        WsClient c = ws();
        c.send("{\"op\":\"subscribe\",\"topic\":\"ws.unsub\",\"id\":\"s1\"}");
        c.next("subscribed");
        publish(server, "ws.unsub", "before");
        assertThat(c.next().get("data").asText()).isEqualTo("before");

        c.send("{\"op\":\"unsubscribe\",\"topic\":\"ws.unsub\",\"id\":\"u1\"}");
        JsonNode unsubscribed = c.next();
        // docs/api.md does not list a reply to unsubscribe; the server answers {"op":"unsubscribed","id","topic"}
        assertThat(unsubscribed.get("op").asText()).isEqualTo("unsubscribed");
        assertThat(unsubscribed.get("id").asText()).isEqualTo("u1");
        assertThat(unsubscribed.get("topic").asText()).isEqualTo("ws.unsub");
        assertThat(subscribers(server, "ws.unsub", "ws")).isZero();

        publish(server, "ws.unsub", "after-1");
        publish(server, "ws.unsub", "after-2");
        // A marker on another topic of the same connection: fan-out of both topics runs on the connection's one event
        // loop in commit order, so anything for ws.unsub would arrive before it.
        c.send("{\"op\":\"subscribe\",\"topic\":\"ws.unsub-marker\",\"id\":\"s2\"}");
        c.next("subscribed");
        publish(server, "ws.unsub-marker", "marker");
        JsonNode next = c.next();
        assertThat(next.get("topic").asText()).as("%s", next).isEqualTo("ws.unsub-marker");
        assertThat(c.inbox).isEmpty();
    }

    @Test
    void subscribingAgainToATopicReplacesTheSubscription() {
        publish(server, "ws.again", "m1");
        WsClient c = ws();
        c.send("{\"op\":\"subscribe\",\"topic\":\"ws.again\",\"from\":\"earliest\",\"id\":\"a\"}");
        c.next("subscribed");
        assertThat(c.next().get("offset").asLong()).isEqualTo(1);
        c.send("{\"op\":\"subscribe\",\"topic\":\"ws.again\",\"from\":\"earliest\",\"id\":\"b\"}");
        assertThat(c.next("subscribed").get("id").asText()).isEqualTo("b");
        assertThat(c.next().get("offset").asLong()).as("replayed by the new subscription").isEqualTo(1);
        assertThat(subscribers(server, "ws.again", "ws")).isEqualTo(1);
        publish(server, "ws.again", "m2");
        assertThat(c.next().get("offset").asLong()).isEqualTo(2);
        publish(server, "ws.again", "m3");
        assertThat(c.next().get("offset").asLong()).as("m2 came once, not once per subscription").isEqualTo(3);
    }

    @Test
    void subscribeShortcutOnConnect() {
        publish(server, "ws.short1", "a1");
        publish(server, "ws.short1", "a2");
        publish(server, "ws.short2", "b1");
        WsClient c = ws("/v1/ws?subscribe=ws.short1,ws.short2&from=earliest");

        List<JsonNode> frames = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            frames.add(c.next());
        }
        List<JsonNode> subscribed = frames.stream().filter(f -> f.get("op").asText().equals("subscribed")).toList();
        assertThat(subscribed).extracting(f -> f.get("topic").asText()).containsExactly("ws.short1", "ws.short2");
        assertThat(subscribed).allSatisfy(f -> assertThat(f.get("next").asLong()).isEqualTo(1));
        assertThat(topicOffsets(frames, "ws.short1")).containsExactly(1L, 2L);
        assertThat(topicOffsets(frames, "ws.short2")).containsExactly(1L);

        publish(server, "ws.short2", "b2");
        JsonNode live = c.next();
        assertThat(live.get("topic").asText()).isEqualTo("ws.short2");
        assertThat(live.get("offset").asLong()).isEqualTo(2);

        // without from, the shortcut subscribes from next
        WsClient fromNext = ws("/v1/ws?subscribe=ws.short1");
        assertThat(fromNext.next("subscribed").get("next").asLong()).isEqualTo(3);
    }

    @Test
    void subscribeShortcutWithABadTopicOrFromIsRefusedBeforeTheUpgrade() {
        for (String query : List.of("subscribe=ok,bad$name", "subscribe=ok,,x", "subscribe=ok&from=nope")) {
            assertThatThrownBy(() -> WsClient.connect(server, "/v1/ws?" + query)).as(query).satisfies(e -> {
                Throwable t = e;
                while (t != null && !(t instanceof WebSocketHandshakeException)) {
                    t = t.getCause();
                }
                assertThat(t).as("a refused handshake in %s", e).isInstanceOf(WebSocketHandshakeException.class);
                assertThat(((WebSocketHandshakeException) t).getResponse().statusCode()).isEqualTo(400);
            });
            var plain = server.send(HttpRequest.newBuilder(server.uri("/v1/ws?" + query)).GET().build());
            assertThat(plain.statusCode()).isEqualTo(400);
            assertThat(StreamFixtures.json(plain.body()).path("error").path("code").asText())
                    .isIn("invalid_topic", "invalid_from");
        }
    }

    private static List<Long> topicOffsets(List<JsonNode> frames, String topic) {
        return frames.stream().filter(f -> f.get("op").asText().equals("message"))
                .filter(f -> f.get("topic").asText().equals(topic)).map(f -> f.get("offset").asLong()).toList();
    }

    @Test
    void manyTopicsOnOneConnectionEachInOrder() {
        WsClient c = ws();
        List<String> topics = List.of("ws.multi.a", "ws.multi.b", "ws.multi.c");
        for (String t : topics) {
            c.send("{\"op\":\"subscribe\",\"topic\":\"" + t + "\",\"id\":\"" + t + "\"}");
            assertThat(c.next("subscribed").get("id").asText()).isEqualTo(t);
        }
        int perTopic = 30;
        for (int i = 1; i <= perTopic; i++) {
            for (String t : topics) {
                publish(server, t, t + "-" + i);
            }
        }
        List<JsonNode> frames = new ArrayList<>();
        for (int i = 0; i < perTopic * topics.size(); i++) {
            frames.add(c.next("message"));
        }
        for (String t : topics) {
            List<String> data = frames.stream().filter(f -> f.get("topic").asText().equals(t))
                    .map(f -> f.get("data").asText()).toList();
            assertThat(data).hasSize(perTopic);
            for (int i = 0; i < perTopic; i++) {
                assertThat(data.get(i)).isEqualTo(t + "-" + (i + 1));
            }
            assertThat(topicOffsets(frames, t)).isSorted().doesNotHaveDuplicates();
        }
        assertThat(subscribers(server, "ws.multi.b", "ws")).isEqualTo(1);
    }

    @Test
    void gapOpWhenTheRequestedOffsetsWereDroppedByRetention() {
        setRetention(server, "ws.gap", "{\"maxMessages\":2}");
        for (int i = 1; i <= 5; i++) {
            publish(server, "ws.gap", "m" + i);
        }
        await().atMost(WAIT).until(() -> describe(server, "ws.gap").get("firstOffset").asLong() == 4);

        WsClient c = ws();
        c.send("{\"op\":\"subscribe\",\"topic\":\"ws.gap\",\"from\":1,\"id\":\"g\"}");
        assertThat(c.next("subscribed").get("next").asLong()).isEqualTo(1);
        JsonNode gap = c.next("gap");
        assertThat(gap.get("topic").asText()).isEqualTo("ws.gap");
        assertThat(gap.get("from").asLong()).isEqualTo(1);
        assertThat(gap.get("first").asLong()).isEqualTo(4);
        assertThat(c.next("message").get("offset").asLong()).isEqualTo(4);
        assertThat(c.next("message").get("offset").asLong()).isEqualTo(5);

        // earliest is never a gap: it means the oldest retained
        WsClient earliest = ws();
        earliest.send("{\"op\":\"subscribe\",\"topic\":\"ws.gap\",\"from\":\"earliest\"}");
        assertThat(earliest.next("subscribed").get("next").asLong()).isEqualTo(4);
        assertThat(earliest.next("message").get("offset").asLong()).isEqualTo(4);
    }

    static Stream<Arguments> badOps() {
        return Stream.of(
                Arguments.of("invalid JSON", "{\"op\":\"subscribe\",", null, "invalid_json"),
                Arguments.of("not an object", "[1,2,3]", null, "invalid_op"),
                Arguments.of("no op", "{\"id\":\"e0\"}", "e0", "invalid_op"),
                Arguments.of("unknown op", "{\"op\":\"dance\",\"id\":\"e1\"}", "e1", "invalid_op"),
                Arguments.of("bad topic", "{\"op\":\"subscribe\",\"topic\":\"no spaces\",\"id\":\"e2\"}", "e2",
                        "invalid_topic"),
                Arguments.of("topic not a string", "{\"op\":\"subscribe\",\"topic\":7,\"id\":\"e3\"}", "e3",
                        "invalid_op"),
                Arguments.of("bad from", "{\"op\":\"subscribe\",\"topic\":\"ok\",\"from\":\"later\",\"id\":\"e4\"}",
                        "e4", "invalid_from"),
                Arguments.of("from 0", "{\"op\":\"subscribe\",\"topic\":\"ok\",\"from\":0,\"id\":\"e5\"}", "e5",
                        "invalid_from"),
                Arguments.of("from past 2^64, which must not wrap around to 1",
                        "{\"op\":\"subscribe\",\"topic\":\"ok\",\"from\":18446744073709551617,\"id\":\"e5b\"}",
                        "e5b", "invalid_from"),
                Arguments.of("from a fraction", "{\"op\":\"subscribe\",\"topic\":\"ok\",\"from\":1.5,\"id\":\"e5c\"}",
                        "e5c", "invalid_from"),
                Arguments.of("from negative", "{\"op\":\"subscribe\",\"topic\":\"ok\",\"from\":-3,\"id\":\"e5d\"}",
                        "e5d", "invalid_from"),
                Arguments.of("from not a number or word",
                        "{\"op\":\"subscribe\",\"topic\":\"ok\",\"from\":true,\"id\":\"e6\"}", "e6", "invalid_from"),
                Arguments.of("publish without data", "{\"op\":\"publish\",\"topic\":\"ok\",\"id\":\"e7\"}", "e7",
                        "invalid_op"),
                Arguments.of("publish to a bad topic", "{\"op\":\"publish\",\"topic\":\"a..b\",\"data\":1,\"id\":\"e8\"}",
                        "e8", "invalid_topic"),
                Arguments.of("publish bad base64",
                        "{\"op\":\"publish\",\"topic\":\"ok\",\"data\":\"***\",\"encoding\":\"base64\",\"id\":\"e9\"}",
                        "e9", "invalid_op"),
                Arguments.of("unsubscribe when not subscribed",
                        "{\"op\":\"unsubscribe\",\"topic\":\"ok\",\"id\":\"e10\"}", "e10", "not_subscribed"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badOps")
    void badOpGetsAnErrorOpAndTheConnectionStaysUsable(String name, String frame, String id, String code) {
        WsClient c = ws();
        c.send(frame);
        JsonNode error = c.next("error");
        assertThat(error.get("code").asText()).isEqualTo(code);
        assertThat(error.get("message").asText()).isNotBlank();
        if (id == null) {
            assertThat(error.has("id")).as("no id could be read from the frame").isFalse();
        } else {
            assertThat(error.get("id").asText()).isEqualTo(id);
        }
        // nothing was stored by the refused op
        assertThat(server.get("/v1/topics/ok").statusCode()).isEqualTo(404);

        // still usable: subscribe and publish on the same connection
        String topic = "ws.after-error-" + Math.abs(name.hashCode());
        c.send("{\"op\":\"subscribe\",\"topic\":\"" + topic + "\",\"id\":\"s\"}");
        c.next("subscribed");
        c.send("{\"op\":\"publish\",\"topic\":\"" + topic + "\",\"data\":\"still here\",\"id\":\"p\"}");
        List<JsonNode> frames = List.of(c.next(), c.next());
        assertThat(frames).extracting(f -> f.get("op").asText()).containsExactlyInAnyOrder("ack", "message");
        assertThat(c.isClosed()).isFalse();
    }

    @Test
    void binaryFrameIsAnError() {
        WsClient c = ws();
        c.socket().sendBinary(ByteBuffer.wrap(new byte[] {1, 2, 3}), true).join();
        assertThat(c.next("error").get("code").asText()).isEqualTo("invalid_frame");
        c.send("{\"op\":\"publish\",\"topic\":\"ws.bin\",\"data\":1,\"id\":\"p\"}");
        assertThat(c.next("ack").get("id").asText()).isEqualTo("p");
    }

    @Test
    void deletingTheTopicEndsTheSubscriptionWithAnErrorOp() {
        publish(server, "ws.doomed", "m1");
        WsClient c = ws();
        c.send("{\"op\":\"subscribe\",\"topic\":\"ws.doomed\",\"from\":\"earliest\",\"id\":\"s\"}");
        c.next("subscribed");
        c.next("message");
        var r = server.send(HttpRequest.newBuilder(server.uri("/v1/topics/ws.doomed")).DELETE().build());
        assertThat(r.statusCode()).isEqualTo(204);
        JsonNode error = c.next("error");
        assertThat(error.get("code").asText()).isEqualTo("topic_deleted");
        assertThat(error.get("topic").asText()).isEqualTo("ws.doomed");
        // the connection stays open for other work
        c.send("{\"op\":\"publish\",\"topic\":\"ws.doomed-other\",\"data\":1,\"id\":\"p\"}");
        assertThat(c.next("ack").get("id").asText()).isEqualTo("p");
    }

    @Test
    void messageFramesAreWellFormedAcrossTheLengthEncodings() throws IOException {
        // Message frames are built by hand (WebSocketFrames): 7-bit, 16-bit and 64-bit payload lengths. Read them raw
        // and with the JDK client, around each boundary (125/126 and 65535/65536 bytes of frame payload).
        String topic = "wf"; // a short topic and content type keep the smallest frame under 124 bytes
        publish(server, topic, "t/x", "x"); // offset 1
        WsClient jdk = ws("/v1/ws?subscribe=" + topic);
        jdk.next("subscribed");
        try (RawWebSocket raw = RawWebSocket.connect(server.port(), "/v1/ws?subscribe=" + topic, 0)) {
            assertThat(StreamFixtures.json(raw.readFrame().payload()).get("op").asText()).isEqualTo("subscribed");
            // frame payload = fixed envelope overhead + payload length, for offsets with the same number of digits
            long overhead = -1;
            List<Integer> frameLengths = new ArrayList<>();
            for (long offset = 2; offset <= 9; offset++) {
                assertThat(publish(server, topic, "t/x", "y")).isEqualTo(offset);
                RawWebSocket.Frame f = raw.readFrame();
                assertThat(f.fin()).isTrue();
                assertThat(f.opcode()).isEqualTo(RawWebSocket.Frame.TEXT);
                overhead = f.payload().length - 1;
                assertThat(jdk.next("message").get("offset").asLong()).isEqualTo(offset);
            }
            // offsets 10..99 have two digits: one more byte of overhead
            long base = overhead + 1;
            for (int target : new int[] {124, 125, 126, 127, 65534, 65535, 65536, 65537}) {
                int payload = (int) (target - base);
                long offset = publish(server, topic, "t/x", "z".repeat(payload));
                assertThat(offset).isBetween(10L, 99L);
                RawWebSocket.Frame f = raw.readFrame();
                assertThat(f.opcode()).isEqualTo(RawWebSocket.Frame.TEXT);
                frameLengths.add(f.payload().length);
                JsonNode m = StreamFixtures.json(f.payload());
                assertThat(m.get("offset").asLong()).isEqualTo(offset);
                assertThat(m.get("data").asText()).hasSize(payload);
                JsonNode viaJdk = jdk.next("message");
                assertThat(viaJdk.get("offset").asLong()).isEqualTo(offset);
                assertThat(viaJdk.get("data").asText()).hasSize(payload);
            }
            assertThat(frameLengths).containsExactly(124, 125, 126, 127, 65534, 65535, 65536, 65537);
        }
    }

    @Test
    void textIsEscapedIntoValidJsonInMessageFrames() {
        String tricky = "quote \" backslash \\ nul \u0000 tab \t newline \n bell \u0007 é 🎉 \u2028 </script>";
        WsClient c = ws();
        c.send("{\"op\":\"subscribe\",\"topic\":\"ws.escape\",\"id\":\"s\"}");
        c.next("subscribed");
        long offset = StreamFixtures.publishBytes(server, "ws.escape", "text/plain; charset=utf-8",
                tricky.getBytes(StandardCharsets.UTF_8));
        JsonNode m = c.next("message");
        assertThat(m.get("offset").asLong()).isEqualTo(offset);
        assertThat(m.get("data").asText()).isEqualTo(tricky);
    }

    /**
     * {@code --max-publish-rate} holds over WebSocket as over HTTP: past it a publish op gets an error op, stores
     * nothing, and leaves the connection open. A rate of one a second: the second publish, sent right after the first,
     * finds the bucket empty (it refills one token per second).
     */
    @Test
    void aWebSocketPublishPastTheConnectionsRateIsRefusedAndStoresNothing() {
        try (TestServer limited = TestServer.start(c -> c.withLimits(c.limits().withPublishRates(1, 0)))) {
            WsClient c = WsClient.connect(limited, "/v1/ws");
            open.add(c);
            c.send("{\"op\":\"publish\",\"topic\":\"ws.rate\",\"data\":\"one\",\"id\":\"p1\"}");
            c.send("{\"op\":\"publish\",\"topic\":\"ws.rate\",\"data\":\"two\",\"id\":\"p2\"}");
            Map<String, JsonNode> replies = new HashMap<>(); // the ack waits for the store, the refusal does not
            for (int i = 0; i < 2; i++) {
                JsonNode reply = c.next();
                replies.put(reply.get("op").asText(), reply);
            }
            assertThat(replies).containsOnlyKeys("ack", "error");
            assertThat(replies.get("ack").get("offset").asLong()).isEqualTo(1);
            JsonNode refused = replies.get("error");
            assertThat(refused.get("id").asText()).isEqualTo("p2");
            assertThat(refused.get("code").asText()).isEqualTo("limit_exceeded");
            assertThat(refused.get("message").asText()).contains("--max-publish-rate");
            assertThat(limited.get("/v1/topics/ws.rate/messages").body()).contains("\"next\":2");
            assertThat(c.isClosed()).isFalse();

            WsClient other = WsClient.connect(limited, "/v1/ws");
            open.add(other);
            other.send("{\"op\":\"publish\",\"topic\":\"ws.rate\",\"data\":\"three\",\"id\":\"p3\"}");
            assertThat(other.next("ack").get("offset").asLong()).as("another connection, its own rate").isEqualTo(2);
            assertThat(limited.get("/metrics").body())
                    .contains("switchboard_publish_rate_limited_total{scope=\"connection\"} 1.0");
        }
    }

    @Test
    void serverAnswersAClientPing() {
        WsClient c = ws();
        c.sendPing("are you there");
        await().atMost(WAIT).until(() -> !c.pongs.isEmpty());
        assertThat(StandardCharsets.UTF_8.decode(c.pongs.get(0)).toString()).isEqualTo("are you there");
    }

    @Test
    void serverPingsAndClosesAPeerThatNeverAnswers() throws IOException {
        Duration ping = Duration.ofMillis(200);
        try (TestServer pinging = TestServer.start(cfg -> withPingInterval(cfg, ping))) {
            // the JDK client answers pings itself and stays connected
            WsClient polite = WsClient.connect(pinging, "/v1/ws");
            open.add(polite);
            await().atMost(WAIT).until(() -> polite.pings.get() >= 5);
            assertThat(polite.isClosed()).isFalse();

            // a bare socket that reads but never answers is closed with 1001 after two silent intervals
            long start = System.nanoTime(); // before the server can hear anything from the peer
            try (RawWebSocket silent = RawWebSocket.connect(pinging.port(), "/v1/ws", 0)) {
                int pings = 0;
                RawWebSocket.Frame close = null;
                while (close == null) {
                    RawWebSocket.Frame f = silent.readFrame();
                    if (f.opcode() == RawWebSocket.Frame.PING) {
                        pings++;
                    } else if (f.opcode() == RawWebSocket.Frame.CLOSE) {
                        close = f;
                    }
                }
                long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                assertThat(pings).isGreaterThanOrEqualTo(1);
                assertThat(close.closeCode()).isEqualTo(1001);
                assertThat(tookMillis).isBetween(2 * ping.toMillis(), 10_000L);
                assertThatThrownBy(() -> {
                    while (true) {
                        silent.readFrame();
                    }
                }).as("the server closes the connection after its close frame").isInstanceOf(EOFException.class);
            }
            assertThat(polite.isClosed()).as("the polite client was never closed").isFalse();
        }
    }

    static ServerConfig withPingInterval(ServerConfig c, Duration ping) {
        return c.withWsPingInterval(ping);
    }

    @Test
    void closingTheClientRemovesItsSubscriptions() {
        publish(server, "ws.gone", "m1");
        WsClient c = WsClient.connect(server, "/v1/ws?subscribe=ws.gone");
        c.next("subscribed");
        assertThat(subscribers(server, "ws.gone", "ws")).isEqualTo(1);
        c.close();
        await().atMost(WAIT).until(() -> subscribers(server, "ws.gone", "ws") == 0);
        WsClient aborted = WsClient.connect(server, "/v1/ws?subscribe=ws.gone");
        aborted.next("subscribed");
        assertThat(subscribers(server, "ws.gone", "ws")).isEqualTo(1);
        aborted.abort();
        await().atMost(WAIT).until(() -> subscribers(server, "ws.gone", "ws") == 0);
    }
}
