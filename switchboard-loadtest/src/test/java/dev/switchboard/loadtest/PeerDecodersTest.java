package dev.switchboard.loadtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The RESP and NATS decoders of the peer adapters, fed whole, split at every byte, and one byte at a time. */
class PeerDecodersTest {

    /** Replies and pushes a Redis subscriber and publisher see, including a payload holding CRLF. */
    private static final String RESP_STREAM = "*3\r\n$9\r\nsubscribe\r\n$7\r\nbench.t\r\n:1\r\n"
            + "*3\r\n$7\r\nmessage\r\n$7\r\nbench.t\r\n$12\r\n123 0 1 xxxx\r\n"
            + "*3\r\n$7\r\nmessage\r\n$7\r\nbench.t\r\n$6\r\na\r\nb\r\n\r\n"
            + ":10\r\n:-3\r\n+OK\r\n-ERR unknown command 'FOO'\r\n$-1\r\n*-1\r\n$0\r\n\r\n*0\r\n"
            + "*2\r\n*1\r\n:7\r\n$1\r\nz\r\n";

    private static final List<String> RESP_VALUES = List.of(
            "[$subscribe, $bench.t, :1]",
            "[$message, $bench.t, $123 0 1 xxxx]",
            "[$message, $bench.t, $a\r\nb\r\n]",
            ":10", ":-3", "+OK", "-ERR unknown command 'FOO'", "nil", "nil", "$", "[]", "[[:7], $z]");

    private static final String NATS_STREAM = "INFO {\"server_id\":\"x\",\"max_payload\":1048576}\r\n"
            + "MSG bench.t 1 12\r\n123 0 1 xxxx\r\n"
            + "MSG bench.t 1 _INBOX.r 4\r\nab\r\n\r\n"
            + "MSG bench.t\t1 0\r\n\r\n"
            + "PING\r\nPONG\r\n+OK\r\n-ERR 'Slow Consumer Detected'\r\n";

    private static final List<String> NATS_VALUES = List.of(
            "INFO {\"server_id\":\"x\",\"max_payload\":1048576}",
            "MSG bench.t 1 null 123 0 1 xxxx",
            "MSG bench.t 1 _INBOX.r ab\r\n",
            "MSG bench.t 1 null ",
            "PING", "PONG", "+OK", "-ERR 'Slow Consumer Detected'");

    @Test
    void respWholeStream() {
        assertThat(decode(RespDecoder::new, PeerDecodersTest::resp, RESP_STREAM, List.of())).isEqualTo(RESP_VALUES);
    }

    @Test
    void respSplitAtEveryByte() {
        for (int at = 1; at < RESP_STREAM.length(); at++) {
            assertThat(decode(RespDecoder::new, PeerDecodersTest::resp, RESP_STREAM, List.of(at)))
                    .as("split at %d", at).isEqualTo(RESP_VALUES);
        }
    }

    @Test
    void respOneByteAtATime() {
        assertThat(decode(RespDecoder::new, PeerDecodersTest::resp, RESP_STREAM, everyByte(RESP_STREAM)))
                .isEqualTo(RESP_VALUES);
    }

    @Test
    void respRejectsBadInput() {
        assertThatThrownBy(() -> decode(RespDecoder::new, PeerDecodersTest::resp, "?1\r\n", List.of()))
                .isInstanceOf(DecoderException.class).hasMessageContaining("unknown RESP type");
        assertThatThrownBy(() -> decode(RespDecoder::new, PeerDecodersTest::resp, ":12x\r\n", List.of()))
                .isInstanceOf(DecoderException.class).hasMessageContaining("bad RESP number");
        assertThatThrownBy(() -> decode(RespDecoder::new, PeerDecodersTest::resp, "$2\r\nabc\r\n", List.of()))
                .isInstanceOf(DecoderException.class).hasMessageContaining("CRLF");
    }

    @Test
    void natsWholeStream() {
        assertThat(decode(NatsDecoder::new, PeerDecodersTest::nats, NATS_STREAM, List.of())).isEqualTo(NATS_VALUES);
    }

    @Test
    void natsSplitAtEveryByte() {
        for (int at = 1; at < NATS_STREAM.length(); at++) {
            assertThat(decode(NatsDecoder::new, PeerDecodersTest::nats, NATS_STREAM, List.of(at)))
                    .as("split at %d", at).isEqualTo(NATS_VALUES);
        }
    }

    @Test
    void natsOneByteAtATime() {
        assertThat(decode(NatsDecoder::new, PeerDecodersTest::nats, NATS_STREAM, everyByte(NATS_STREAM)))
                .isEqualTo(NATS_VALUES);
    }

    @Test
    void natsRejectsBadInput() {
        assertThatThrownBy(() -> decode(NatsDecoder::new, PeerDecodersTest::nats, "HMSG a 1 2 2\r\n", List.of()))
                .isInstanceOf(DecoderException.class).hasMessageContaining("unexpected NATS line");
        assertThatThrownBy(() -> decode(NatsDecoder::new, PeerDecodersTest::nats, "MSG a 1 x\r\n", List.of()))
                .isInstanceOf(DecoderException.class).hasMessageContaining("bad MSG size");
        assertThatThrownBy(() -> decode(NatsDecoder::new, PeerDecodersTest::nats, "MSG a 1 1\r\nab\r\n", List.of()))
                .isInstanceOf(DecoderException.class).hasMessageContaining("CRLF");
    }

    /** Feeds {@code stream} cut at {@code cuts} (ascending) and returns what came out, rendered as text. */
    private static List<String> decode(Supplier<ChannelHandler> decoder, java.util.function.Function<Object, String> render,
                                       String stream, List<Integer> cuts) {
        EmbeddedChannel channel = new EmbeddedChannel(decoder.get());
        byte[] bytes = stream.getBytes(StandardCharsets.UTF_8);
        int from = 0;
        List<Integer> ends = new ArrayList<>(cuts);
        ends.add(bytes.length);
        for (int end : ends) {
            channel.writeInbound(Unpooled.wrappedBuffer(bytes, from, end - from));
            from = end;
        }
        List<String> out = new ArrayList<>();
        for (Object value; (value = channel.readInbound()) != null; ) {
            out.add(render.apply(value));
        }
        channel.finishAndReleaseAll();
        return out;
    }

    private static List<Integer> everyByte(String stream) {
        List<Integer> cuts = new ArrayList<>();
        for (int i = 1; i < stream.length(); i++) {
            cuts.add(i);
        }
        return cuts;
    }

    private static String resp(Object value) {
        if (value == RespDecoder.NULL) {
            return "nil";
        }
        return switch (value) {
            case List<?> list -> list.stream().map(PeerDecodersTest::resp).collect(Collectors.joining(", ", "[", "]"));
            case byte[] bytes -> "$" + new String(bytes, StandardCharsets.UTF_8);
            case Long n -> ":" + n;
            case String s -> "+" + s;
            case RespDecoder.Error e -> "-" + e.message();
            default -> throw new AssertionError("unexpected " + value);
        };
    }

    private static String nats(Object value) {
        return switch ((NatsDecoder.Frame) value) {
            case NatsDecoder.Info info -> "INFO " + info.json();
            case NatsDecoder.Msg msg -> "MSG " + msg.subject() + " " + msg.sid() + " " + msg.replyTo() + " "
                    + new String(msg.payload(), StandardCharsets.UTF_8);
            case NatsDecoder.Ping ping -> "PING";
            case NatsDecoder.Pong pong -> "PONG";
            case NatsDecoder.Ok ok -> "+OK";
            case NatsDecoder.Err err -> "-ERR " + err.message();
        };
    }
}
