package dev.switchboard.codec.nats;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testing.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A NATS subscriber that stops reading is handled as on every push transport: its cursor pauses (the server holds no
 * queue for it), and after the slow-consumer timeout the connection is closed; what it got is an in-order prefix.
 */
@Timeout(90)
class NatsSlowConsumerTest {
    private static final int MESSAGES = 3000;
    private static final int SIZE = 4096;

    @Test
    void aStalledSubscriberPausesAndIsClosedAfterTheTimeout() throws Exception {
        try (TestServer server = TestServer.start(c -> c.withNatsPort(0)
                .withLimits(c.limits().withSlowConsumerTimeout(Duration.ofSeconds(1))));
             Socket stalled = new Socket();
             Socket publisher = new Socket("127.0.0.1", server.natsPort())) {
            server.post("/v1/topics/slow/messages", "text/plain", "warm-up"); // the topic exists from here
            stalled.setReceiveBufferSize(4096);
            stalled.connect(new InetSocketAddress("127.0.0.1", server.natsPort()), 5000);
            OutputStream out = stalled.getOutputStream();
            out.write("SUB slow 1\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            Awaitility.await().atMost(Duration.ofSeconds(10))
                    .until(() -> natsReaders(server) == 1);

            // Publish everything over another NATS connection; its PONG says all of it is stored.
            OutputStream pub = publisher.getOutputStream();
            byte[] filler = "x".repeat(SIZE - 8).getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < MESSAGES; i++) {
                pub.write(("PUB slow " + SIZE + "\r\n" + String.format("%08d", i)).getBytes(StandardCharsets.US_ASCII));
                pub.write(filler);
                pub.write("\r\n".getBytes(StandardCharsets.US_ASCII));
            }
            pub.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            pub.flush();
            publisher.setSoTimeout(60_000);
            String publisherSaw = readUntilPong(publisher.getInputStream());
            assertThat(publisherSaw).endsWith("PONG\r\n").doesNotContain("-ERR");

            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> natsReaders(server) == 0);

            stalled.setSoTimeout(10_000);
            ByteArrayOutputStream received = new ByteArrayOutputStream();
            try {
                stalled.getInputStream().transferTo(received);
            } catch (SocketException e) {
                // a reset is an end too
            }
            String text = received.toString(StandardCharsets.ISO_8859_1);
            Matcher m = Pattern.compile("MSG slow 1 " + SIZE + "\r\n(\\d{8})").matcher(text);
            List<Integer> seen = new ArrayList<>();
            while (m.find()) {
                seen.add(Integer.parseInt(m.group(1)));
            }
            assertThat(seen).as("an in-order prefix, then the close").isNotEmpty();
            for (int i = 0; i < seen.size(); i++) {
                assertThat(seen.get(i)).isEqualTo(i);
            }
            assertThat(seen.size()).as("the stalled reader did not get everything").isLessThan(MESSAGES);
            assertThat(server.get("/v1/topics/slow").body()).contains("\"lastOffset\":" + (MESSAGES + 1));
        }
    }

    private static int natsReaders(TestServer server) throws IOException {
        return new ObjectMapper().readTree(server.get("/v1/topics/slow").body()).path("subscribers").path("nats")
                .asInt(0);
    }

    private static String readUntilPong(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        while (!b.toString(StandardCharsets.US_ASCII).endsWith("PONG\r\n")) {
            int c = in.read();
            if (c < 0) {
                break;
            }
            b.write(c);
        }
        return b.toString(StandardCharsets.US_ASCII);
    }
}
