package dev.switchboard.h2;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.codec.proxy.Sidecar;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The answer to a request that upgrades to h2c waits for the client's connection preface (H2cPrefaceWait: the JDK's
 * HttpClient drops what follows the {@code 101} past its first 16 KiB read buffer when it comes in the same read). A
 * raw client on a socket: the dashboard's script is answered within the upgrade's own read, and before, its frames
 * left in the same write as the server's SETTINGS, so a client that has the SETTINGS had them too.
 */
class H2cFirstAnswerTest {
    private static PlainAndSidecar servers;

    @BeforeAll
    static void start() {
        servers = PlainAndSidecar.start();
    }

    @AfterAll
    static void stop() {
        servers.close();
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void theUpgradingRequestIsAnsweredOnlyAfterTheClientPreface(boolean inSidecar) throws IOException {
        String path = (inSidecar ? Sidecar.DASHBOARD : "/") + "dashboard/app.js";
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), servers.server(inSidecar).port())) {
            socket.setSoTimeout(20_000);
            InputStream in = socket.getInputStream();
            OutputStream out = socket.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                    + "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            ByteArrayOutputStream received = new ByteArrayOutputStream();

            readUntil(in, received, H2cFirstAnswerTest::headAndOneFrame);
            H2cTranscript beforePreface = H2cTranscript.parse(received.toByteArray());
            assertThat(beforePreface.streams).as("frames of stream 1 before the client's preface").isEmpty();
            assertThat(beforePreface.trailing).isZero();
            assertThat(in.available()).as("bytes after the server's SETTINGS").isZero();

            out.write(RawFrames.preface());
            readUntil(in, received, b -> {
                H2cTranscript t = H2cTranscript.parse(b);
                return t.streams.containsKey(1) && t.streams.get(1).ended;
            });
            H2cTranscript.Stream answer = H2cTranscript.parse(received.toByteArray()).streams.get(1);
            assertThat(answer.status()).isEqualTo("200");
            assertThat(answer.body.size()).isEqualTo(answer.headers.getFirst().getInt("content-length"))
                    .isPositive();
        }
    }

    /** Reads until what came satisfies {@code done}. */
    private static void readUntil(InputStream in, ByteArrayOutputStream received, Predicate<byte[]> done)
            throws IOException {
        byte[] buf = new byte[64 * 1024];
        while (!done.test(received.toByteArray())) {
            int n = in.read(buf);
            if (n < 0) {
                throw new EOFException("closed after " + received.size() + " bytes");
            }
            received.write(buf, 0, n);
        }
    }

    /** A response head and a whole frame after it. */
    private static boolean headAndOneFrame(byte[] b) {
        String text = new String(b, StandardCharsets.ISO_8859_1);
        int end = text.indexOf("\r\n\r\n");
        if (end < 0 || b.length < end + 4 + 9) {
            return false;
        }
        int at = end + 4;
        int length = ((b[at] & 0xff) << 16) | ((b[at + 1] & 0xff) << 8) | (b[at + 2] & 0xff);
        return b.length >= at + 9 + length;
    }
}
