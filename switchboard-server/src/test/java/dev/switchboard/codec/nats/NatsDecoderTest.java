package dev.switchboard.codec.nats;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The NATS control-line and payload reader, on its own: every op, every split of the input, the limits. */
class NatsDecoderTest {
    private static final int MAX_PAYLOAD = 64;

    /** Every op a client sends, binary payloads with CR, LF and "PUB" inside, and the forms clients vary in. */
    private static byte[] script() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ascii("CONNECT {\"verbose\":true,\"echo\":false}\r\n"));
        out.writeBytes(ascii("PUB orders.new 5\r\nhello\r\n"));
        out.writeBytes(ascii("pub\torders.new  _INBOX.abc.1 \t 7\r\n"));
        out.writeBytes(new byte[] {'\r', '\n', 'P', 'U', 'B', 0, (byte) 0xff});
        out.writeBytes(ascii("\r\n"));
        out.writeBytes(ascii("PUB empty 0\r\n\r\n"));
        out.writeBytes(ascii("HPUB h.1 reply.1 12 14\r\nNATS/1.0\r\n\r\nhi\r\n"));
        out.writeBytes(ascii("SUB sensors.* 1\r\nSUB tasks workers 2\r\n"));
        out.writeBytes(ascii("UNSUB 1\r\nUNSUB 2 10\r\n"));
        out.writeBytes(ascii("PING\r\nPONG\nping\r\n"));
        return out.toByteArray();
    }

    private static final List<String> EXPECTED = List.of(
            "Connect {\"verbose\":true,\"echo\":false}",
            "Pub orders.new null null 68656c6c6f",
            "Pub orders.new _INBOX.abc.1 null 0d0a50554200ff",
            "Pub empty null null ",
            "Pub h.1 reply.1 4e4154532f312e300d0a0d0a 6869",
            "Sub sensors.* null 1",
            "Sub tasks workers 2",
            "Unsub 1 0",
            "Unsub 2 10",
            "Ping", "Pong", "Ping");

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static List<String> decode(byte[]... chunks) {
        return DecodedOps.decode(MAX_PAYLOAD, chunks);
    }

    @Test
    void readsEveryOpWhole() {
        assertThat(decode(script())).containsExactlyElementsOf(EXPECTED);
    }

    @Test
    void readsTheSameWhereverTheInputIsSplit() {
        byte[] all = script();
        for (int at = 0; at <= all.length; at++) {
            byte[] head = java.util.Arrays.copyOfRange(all, 0, at);
            byte[] tail = java.util.Arrays.copyOfRange(all, at, all.length);
            assertThat(decode(head, tail)).as("split at byte %d", at).containsExactlyElementsOf(EXPECTED);
        }
    }

    @Test
    void readsTheSameOneByteAtATime() {
        byte[] all = script();
        byte[][] bytes = new byte[all.length][];
        for (int i = 0; i < all.length; i++) {
            bytes[i] = new byte[] {all[i]};
        }
        assertThat(decode(bytes)).containsExactlyElementsOf(EXPECTED);
    }

    @Test
    void aPayloadOverTheLimitIsRefusedBeforeItIsBufferedAndNothingAfterItIsRead() {
        assertThat(decode(ascii("PUB big " + (MAX_PAYLOAD + 1) + "\r\n"), ascii("PING\r\n")))
                .containsExactly("Malformed " + NatsDecoder.MAX_PAYLOAD);
        assertThat(decode(ascii("PUB fits " + MAX_PAYLOAD + "\r\n" + "x".repeat(MAX_PAYLOAD) + "\r\nPING\r\n")))
                .hasSize(2).last().isEqualTo("Ping");
        assertThat(decode(ascii("HPUB h 10 " + (MAX_PAYLOAD + 1) + "\r\n")))
                .containsExactly("Malformed " + NatsDecoder.MAX_PAYLOAD);
    }

    @Test
    void aControlLineOverTheLimitIsRefusedWithoutWaitingForItsEnd() {
        byte[] longLine = ascii("SUB " + "a".repeat(NatsEndpoint.MAX_CONTROL_LINE));
        assertThat(decode(longLine)).containsExactly("Malformed " + NatsDecoder.MAX_CONTROL_LINE);
        byte[] justFits = ascii("SUB " + "a".repeat(NatsEndpoint.MAX_CONTROL_LINE - 6) + " 1\r\n");
        assertThat(decode(justFits)).hasSize(1).first().asString().startsWith("Sub aaaa");
    }

    @Test
    void aPayloadLongerThanAnnouncedIsMalformed() {
        assertThat(decode(ascii("PUB a 3\r\nabcd\r\nPING\r\n")))
                .containsExactly("Malformed " + NatsDecoder.UNKNOWN_OPERATION);
    }
}
