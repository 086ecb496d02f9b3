package dev.switchboard.codec.websocket;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testing.HandlerFixture;
import dev.switchboard.testing.TestConnection;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A {@link WebSocketSession} on the server's own pipeline, without sockets: the connection is upgraded by a real
 * handshake, the client's frames are masked as a browser's are and go through the server's frame decoder, and the
 * server's frames are read back with a client-side decoder. Replies and errors are those of docs/api.md.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class WebSocketSessionTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String UPGRADE = "GET /v1/ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

    private HandlerFixture fixture;

    @BeforeEach
    void open() {
        fixture = HandlerFixture.open();
    }

    @AfterEach
    void close() {
        fixture.close();
    }

    /** A client of one upgraded connection: masks what it sends, decodes what the server sent. */
    private final class Client {
        final TestConnection connection = fixture.connect();
        private final EmbeddedChannel decoder = new EmbeddedChannel(new WebSocket13FrameDecoder(false, false, 1 << 20));
        private final List<JsonNode> received = new ArrayList<>();

        Client() {
            connection.send(UPGRADE.getBytes(StandardCharsets.US_ASCII));
            String head = new String(connection.written(), StandardCharsets.US_ASCII);
            assertThat(head).startsWith("HTTP/1.1 101 Switching Protocols\r\n")
                    .containsIgnoringCase("sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n").endsWith("\r\n\r\n");
        }

        /** Waits until the server has sent {@code n} replies in all and returns them, as their short forms. */
        List<String> replies(int n) {
            connection.runUntil(() -> {
                decoder.writeInbound(Unpooled.wrappedBuffer(connection.written()));
                for (WebSocketFrame f; (f = decoder.readInbound()) != null; ) {
                    try {
                        assertThat(f).as("the server sends text frames").isInstanceOf(TextWebSocketFrame.class);
                        received.add(json(((TextWebSocketFrame) f).text()));
                    } finally {
                        f.release();
                    }
                }
                return received.size() >= n;
            });
            assertThat(received).as("replies").hasSize(n);
            return received.stream().map(WebSocketSessionTest::summary).toList();
        }

        JsonNode reply(int index) {
            return received.get(index);
        }

        void close() {
            connection.finishAndReleaseAll();
            decoder.finishAndReleaseAll();
        }
    }

    /** Client text frames as they go on the wire: masked (RFC 6455 5.3). */
    private static byte[] frames(String... texts) {
        EmbeddedChannel encoder = new EmbeddedChannel(new WebSocket13FrameEncoder(true));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String text : texts) {
            encoder.writeOutbound(new TextWebSocketFrame(text));
            for (ByteBuf b; (b = encoder.readOutbound()) != null; ) {
                byte[] bytes = new byte[b.readableBytes()];
                b.readBytes(bytes);
                b.release();
                out.writeBytes(bytes);
            }
        }
        encoder.finishAndReleaseAll();
        return out.toByteArray();
    }

    private static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A reply's op, id and what tells it apart: an error's code, a message's topic@offset and data. */
    private static String summary(JsonNode r) {
        String op = r.get("op").asText();
        String id = r.has("id") ? " " + r.get("id").asText() : "";
        return switch (op) {
            case "error" -> "error" + id + " " + r.get("code").asText();
            case "message" -> "message " + r.get("topic").asText() + "@" + r.get("offset").asLong() + " "
                    + r.get("data").asText();
            case "subscribed" -> "subscribed" + id + " " + r.get("topic").asText() + " next=" + r.get("next").asLong();
            case "gap" -> "gap " + r.get("topic").asText() + " " + r.get("from").asLong() + ".." + r.get("first").asLong();
            default -> op + id + " " + r.get("topic").asText();
        };
    }

    private static final String[] OPS = {
            "{\"op\":\"subscribe\",\"topic\":\"ws.t\",\"from\":\"earliest\",\"id\":\"s1\"}",
            "{\"op\":\"unsubscribe\",\"topic\":\"ws.t\",\"id\":\"u1\"}",
            "{\"op\":\"unsubscribe\",\"topic\":\"ws.t\",\"id\":\"u2\"}",
            "{\"op\":\"subscribe\",\"topic\":\"bad!\",\"id\":\"s2\"}",
            "not json",
            "{\"op\":\"shout\",\"id\":\"x1\"}",
            "[1,2]",
            "{\"op\":\"subscribe\",\"topic\":\"ws.t\",\"from\":0,\"id\":\"s3\"}",
            "{\"op\":\"publish\",\"topic\":\"ws.p\",\"id\":\"p1\"}",
            "{\"op\":\"publish\",\"topic\":\"ws.p\",\"data\":\"hello\",\"id\":\"p2\"}"};

    private static final List<String> REPLIES = List.of(
            "subscribed s1 ws.t next=1",
            "message ws.t@1 m1",
            "message ws.t@2 m2",
            "unsubscribed u1 ws.t",
            "error u2 not_subscribed",
            "error s2 invalid_topic",
            "error invalid_json",
            "error x1 invalid_op",
            "error invalid_op",
            "error s3 invalid_from",
            "error p1 invalid_op",
            "ack p2 ws.p");

    @Test
    void opsSplitAtEveryByteAreAnsweredInOrder() {
        fixture.keepInMemory("ws.t"); // delivered in the subscribe's own turn, before the next op is read
        fixture.publish("ws.t", "m1");
        fixture.publish("ws.t", "m2");
        byte[] all = frames(OPS);
        for (int split = 1; split < all.length; split++) {
            Client c = new Client();
            try {
                c.connection.send(Arrays.copyOfRange(all, 0, split));
                c.connection.send(Arrays.copyOfRange(all, split, all.length));
                assertThat(c.replies(REPLIES.size())).as("the frames split after byte %d of %d", split, all.length)
                        .isEqualTo(REPLIES);
                assertThat(c.connection.isOpen()).as("an error never closes the connection").isTrue();
            } finally {
                c.close();
            }
        }
        assertThat(fixture.subscribers("ws.t", "ws")).as("every subscription ended").isZero();
    }

    @Test
    void opsOneByteAtATimeAreAnsweredInOrderAndThePublishIsStored() {
        fixture.keepInMemory("ws.t"); // delivered in the subscribe's own turn, before the next op is read
        fixture.publish("ws.t", "m1");
        fixture.publish("ws.t", "m2");
        Client c = new Client();
        for (byte b : frames(OPS)) {
            c.connection.send(new byte[] {b});
        }
        assertThat(c.replies(REPLIES.size())).isEqualTo(REPLIES);
        JsonNode ack = c.reply(REPLIES.size() - 1);
        assertThat(ack.get("offset").asLong()).isEqualTo(1);
        assertThat(fixture.firstOffset("ws.p")).as("the publish was stored").isEqualTo(1);
        c.close();
    }

    @Test
    void aSubscriberGetsLiveMessagesThenTheTopicDeletedError() {
        fixture.publish("ws.live", "before");
        Client c = new Client();
        c.connection.send(frames("{\"op\":\"subscribe\",\"topic\":\"ws.live\",\"id\":\"s\"}"));
        assertThat(c.replies(1)).containsExactly("subscribed s ws.live next=2");
        assertThat(fixture.subscribers("ws.live", "ws")).isEqualTo(1);

        fixture.publish("ws.live", "one");
        fixture.publish("ws.live", "two");
        assertThat(c.replies(3)).endsWith("message ws.live@2 one", "message ws.live@3 two");

        assertThat(fixture.delete("ws.live")).isTrue();
        assertThat(c.replies(4)).endsWith("error topic_deleted");
        assertThat(c.reply(3).get("topic").asText()).isEqualTo("ws.live");
        assertThat(c.connection.isOpen()).as("the connection outlives the subscription").isTrue();

        c.connection.send(frames("{\"op\":\"unsubscribe\",\"topic\":\"ws.live\",\"id\":\"u\"}"));
        assertThat(c.replies(5)).as("the deleted topic's subscription has ended").endsWith("error u not_subscribed");
        c.close();
    }

    /** Its pattern and group holders are built on first use: before that, ops on them are refused as ever. */
    @Test
    void patternAndGroupOpsOnAConnectionThatNeverMadeOneAreRefused() {
        fixture.publish("ws.n", "m1");
        Client c = new Client();
        c.connection.send(frames("{\"op\":\"subscribe\",\"topic\":\"ws.n\",\"id\":\"s\"}",
                "{\"op\":\"unsubscribe\",\"topic\":\"ws.*\",\"id\":\"up\"}",
                "{\"op\":\"unsubscribe\",\"topic\":\"ws.n\",\"group\":\"g\",\"id\":\"ug\"}",
                "{\"op\":\"ack\",\"topic\":\"ws.n\",\"group\":\"g\",\"offsets\":[1],\"id\":\"a\"}"));
        assertThat(c.replies(4)).containsExactly("subscribed s ws.n next=2", "error up not_subscribed",
                "error ug not_subscribed", "error a group_not_found");
        assertThat(c.reply(1).get("message").asText()).isEqualTo("not subscribed to pattern 'ws.*'");
        assertThat(c.reply(2).get("message").asText()).isEqualTo("not a member of group 'g' on 'ws.n'");
        assertThat(c.connection.isOpen()).isTrue();
        c.close();
        assertThat(fixture.subscribers("ws.n", "ws")).as("closing ends the topic's subscription").isZero();
    }

    @Test
    void aSubscriberBehindRetentionGetsAGapThenWhatIsLeft() {
        fixture.publishPastRetention("ws.short", 2, 5);
        Client c = new Client();
        c.connection.send(frames("{\"op\":\"subscribe\",\"topic\":\"ws.short\",\"from\":1,\"id\":\"s\"}"));
        assertThat(c.replies(4)).containsExactly("subscribed s ws.short next=1", "gap ws.short 1..4",
                "message ws.short@4 m4", "message ws.short@5 m5");
        c.close();
    }
}
