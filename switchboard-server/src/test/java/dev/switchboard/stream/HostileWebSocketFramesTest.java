package dev.switchboard.stream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.testing.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Frames RFC 6455 forbids, written on a raw socket after a real handshake, each followed in the same write by a
 * valid publish: the server must answer with a Close frame carrying the right code (1002 protocol error, 1007
 * invalid data, 1009 too big), close the connection, and store nothing, the publish behind the bad frame included;
 * a message in fragments, control frames between them, is one op.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HostileWebSocketFramesTest {
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

    /** A frame as bytes: first byte (FIN, RSV, opcode), then the length as declared, a mask unless unmasked. */
    private static byte[] frame(int firstByte, boolean masked, long declaredLength, byte[] payload) {
        ByteArrayOutputStream f = new ByteArrayOutputStream();
        f.write(firstByte);
        int maskBit = masked ? 0x80 : 0;
        if (declaredLength < 126) {
            f.write(maskBit | (int) declaredLength);
        } else if (declaredLength <= 0xffff) {
            f.write(maskBit | 126);
            f.write((int) (declaredLength >>> 8));
            f.write((int) declaredLength);
        } else {
            f.write(maskBit | 127);
            for (int i = 7; i >= 0; i--) {
                f.write((int) (declaredLength >>> (8 * i)));
            }
        }
        byte[] mask = {0x12, 0x34, 0x56, 0x78};
        if (masked) {
            f.writeBytes(mask);
        }
        for (int i = 0; i < payload.length; i++) {
            f.write(masked ? payload[i] ^ mask[i & 3] : payload[i]);
        }
        return f.toByteArray();
    }

    private static byte[] text(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static Stream<Arguments> hostileFrames() {
        byte[] op = text("{\"op\":\"publish\",\"topic\":\"hostile.x\",\"data\":\"x\"}");
        return Stream.of(
                Arguments.of("unmasked client frame", frame(0x81, false, op.length, op), 1002),
                Arguments.of("length of 2^62", frame(0x81, true, 1L << 62, new byte[0]), 1009),
                Arguments.of("length past --max-message-bytes", frame(0x81, true, 64L * 1024 * 1024, new byte[0]), 1009),
                Arguments.of("fragmented ping", frame(0x09, true, 2, text("hi")), 1002),
                Arguments.of("ping with 126 bytes", frame(0x89, true, 126, new byte[126]), 1002),
                Arguments.of("invalid UTF-8 text", frame(0x81, true, 2, new byte[] {(byte) 0xc3, 0x28}), 1007),
                Arguments.of("UTF-8 surrogate in text", frame(0x81, true, 3,
                        new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80}), 1007),
                Arguments.of("reserved bit without an extension", frame(0xc1, true, op.length, op), 1002),
                Arguments.of("reserved opcode 3", frame(0x83, true, 1, text("x")), 1002),
                Arguments.of("continuation without a start", frame(0x80, true, op.length, op), 1002),
                Arguments.of("fragments past the limit together", both(frame(0x01, true, 720_000, new byte[720_000]),
                        frame(0x80, true, 720_000, new byte[720_000])), 1009),
                Arguments.of("invalid UTF-8 across fragments", both(frame(0x01, true, 1, new byte[] {(byte) 0xc3}),
                        frame(0x80, true, 1, new byte[] {0x28})), 1007));
    }

    private static byte[] both(byte[] first, byte[] second) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(first);
        b.writeBytes(second);
        return b.toByteArray();
    }

    @Test
    void aMessageInFragmentsWithAPingBetweenIsOneOp() throws IOException {
        String topic = "hostile.t" + names.incrementAndGet();
        byte[] op = text("{\"op\":\"publish\",\"topic\":\"" + topic + "\",\"data\":\"whole\",\"id\":\"p\"}");
        int a = 10;
        int b = 25;
        try (RawWebSocket ws = RawWebSocket.connect(server.port(), "/v1/ws", 0)) {
            ByteArrayOutputStream parts = new ByteArrayOutputStream();
            parts.writeBytes(frame(0x01, true, a, Arrays.copyOfRange(op, 0, a)));
            parts.writeBytes(frame(0x89, true, 2, text("hi")));
            parts.writeBytes(frame(0x00, true, b - a, Arrays.copyOfRange(op, a, b)));
            parts.writeBytes(frame(0x80, true, op.length - b, Arrays.copyOfRange(op, b, op.length)));
            ws.socket().getOutputStream().write(parts.toByteArray());
            ws.socket().getOutputStream().flush();

            RawWebSocket.Frame pong = ws.readFrame();
            assertThat(pong.opcode()).isEqualTo(RawWebSocket.Frame.PONG);
            assertThat(pong.text()).isEqualTo("hi");
            RawWebSocket.Frame ack = ws.readFrame();
            assertThat(ack.text()).contains("\"op\":\"ack\"", "\"topic\":\"" + topic + "\"", "\"offset\":1");
        }
        assertThat(server.get("/v1/topics/" + topic + "/messages?from=1").body()).contains("whole");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostileFrames")
    void isClosedWithTheRightCodeAndNothingStored(String name, byte[] bad, int code) throws IOException {
        String topic = "hostile.t" + names.incrementAndGet();
        byte[] op = text("{\"op\":\"publish\",\"topic\":\"" + topic + "\",\"data\":\"behind\",\"id\":\"p\"}");
        byte[] publish = frame(0x81, true, op.length, op);
        try (RawWebSocket ws = RawWebSocket.connect(server.port(), "/v1/ws", 0)) {
            ByteArrayOutputStream both = new ByteArrayOutputStream();
            both.writeBytes(bad);
            both.writeBytes(publish);
            ws.socket().getOutputStream().write(both.toByteArray());
            ws.socket().getOutputStream().flush();

            RawWebSocket.Frame close = null;
            try {
                for (RawWebSocket.Frame f = ws.readFrame(); ; f = ws.readFrame()) {
                    assertThat(f.text()).as(name + ": nothing acked").doesNotContain("\"op\":\"ack\"");
                    if (f.opcode() == RawWebSocket.Frame.CLOSE) {
                        close = f;
                        break;
                    }
                }
                assertThat(ws.input().read()).as(name + ": closed after the Close frame").isEqualTo(-1);
            } catch (EOFException | SocketException e) {
                // the close frame, if any, was read above; a reset after it is a close too
            }
            assertThat(close).as(name + ": a Close frame").isNotNull();
            assertThat(close.closeCode()).as(name + ": " + close.closeReason()).isEqualTo(code);
        }
        assertThat(server.get("/v1/topics/" + topic).statusCode()).as(name + ": nothing stored").isEqualTo(404);
        assertThat(server.get("/healthz").statusCode()).isEqualTo(200);
    }
}
