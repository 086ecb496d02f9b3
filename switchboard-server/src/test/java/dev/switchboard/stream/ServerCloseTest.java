package dev.switchboard.stream;

import static dev.switchboard.stream.StreamFixtures.publish;
import static dev.switchboard.stream.StreamFixtures.subscribers;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

import dev.switchboard.config.IoMode;
import dev.switchboard.testing.TestServer;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Stopping the server ends every client connection, whatever it was doing, on every event-loop engine: by the time
 * {@code close()} returns each socket is closed (the client reads the end of the stream), and a WebSocket was told
 * first with a Close frame 1001 (going away). Without that frame the JDK's WebSocket client can miss the end of the
 * stream altogether (when it arrives while the listener still handles the previous message, the JDK fails
 * internally and never calls onClose or onError), and a subscriber then never reconnects after a restart.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ServerCloseTest {
    private static final String TOPIC = "close.states";
    private static final String BACKLOG = "close.backlog";
    /** How long after close() returned a client may still wait for the end of its stream. */
    private static final int END_WITHIN_MILLIS = 10_000;

    @ParameterizedTest
    @EnumSource(value = IoMode.class, names = {"IO_URING", "EPOLL", "NIO"})
    void everyConnectionEndsWhenTheServerStops(IoMode io) throws Exception {
        Map<String, Socket> connections = new LinkedHashMap<>();
        RawWebSocket ws = null;
        try (TestServer server = TestServer.start(config -> config.withIo(io))) {
            int port = server.port();
            publish(server, TOPIC, "before");
            String chunk = "x".repeat(64 * 1024);
            for (int i = 0; i < 16; i++) {
                publish(server, BACKLOG, chunk); // 1 MB for a reader with a 4 KB buffer that does not read
            }

            ws = RawWebSocket.connect(port, "/v1/ws?subscribe=" + TOPIC + "&from=next", 0);
            RawWebSocket.Frame subscribed = ws.readFrame();
            assertThat(subscribed.text()).contains("\"op\":\"subscribed\"");
            connections.put("websocket that reads", ws.socket());

            RawWebSocket stalled = RawWebSocket.connect(port, "/v1/ws?subscribe=" + BACKLOG + "&from=earliest", 4096);
            connections.put("websocket with a backlog that it does not read", stalled.socket());

            Socket sse = open(port, "GET /v1/topics/" + TOPIC + "/events HTTP/1.1\r\nHost: localhost\r\n\r\n");
            assertThat(RawWebSocket.readHead(sse.getInputStream())).startsWith("HTTP/1.1 200");
            connections.put("SSE stream", sse);

            connections.put("held long poll", open(port,
                    "GET /v1/topics/" + TOPIC + "/messages?from=next&wait=60s HTTP/1.1\r\nHost: localhost\r\n\r\n"));

            Socket idle = open(port, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n");
            readResponse(idle.getInputStream());
            connections.put("idle keep-alive after one request", idle);

            connections.put("half a request head", open(port, "GET /v1/topics HTTP/1.1\r\nHost: localhost\r\n"));
            connections.put("half a request body", open(port, "POST /v1/topics/" + TOPIC + "/messages HTTP/1.1\r\n"
                    + "Host: localhost\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\nonly ten b"));
            connections.put("connected, nothing sent", open(port, ""));

            await().atMost(Duration.ofSeconds(20)).until(() -> subscribers(server, TOPIC, "ws") == 1
                    && subscribers(server, BACKLOG, "ws") == 1 && subscribers(server, TOPIC, "sse") == 1
                    && subscribers(server, TOPIC, "longpoll") == 1);
        } // closes the server

        for (Socket s : connections.values()) {
            s.setSoTimeout(END_WITHIN_MILLIS);
        }
        RawWebSocket.Frame first;
        try {
            first = ws.readFrame();
        } catch (EOFException e) {
            throw new AssertionError("the reading WebSocket ended without a Close frame", e);
        }
        assertThat(first.opcode()).as("a Close frame, not %s", first.text()).isEqualTo(RawWebSocket.Frame.CLOSE);
        assertThat(first.closeCode()).as("going away").isEqualTo(1001);
        for (Map.Entry<String, Socket> c : connections.entrySet()) {
            assertEnds(c.getKey(), c.getValue());
        }
    }

    /** Reads (and drops) whatever the server still sent until the end of the stream or a reset. */
    private static void assertEnds(String what, Socket s) throws IOException {
        InputStream in = s.getInputStream();
        byte[] buffer = new byte[64 * 1024];
        try (s) {
            while (in.read(buffer) >= 0) {
                // what the server wrote before it closed
            }
        } catch (SocketTimeoutException e) {
            fail("%s: still open %d ms after the server's close() returned", what, END_WITHIN_MILLIS);
        } catch (SocketException e) {
            // a reset ends the connection too: the listening socket closed before this one was accepted
            assertThat(e.getMessage()).as(what).containsIgnoringCase("reset");
        }
    }

    private static Socket open(int port, String sent) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        s.setSoTimeout(15_000);
        OutputStream out = s.getOutputStream();
        out.write(sent.getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return s;
    }

    private static final Pattern CONTENT_LENGTH = Pattern.compile("\r\ncontent-length: *(\\d+)");

    /** One whole response with a Content-Length body, leaving the connection at the start of the next. */
    private static void readResponse(InputStream in) throws IOException {
        String head = RawWebSocket.readHead(in);
        assertThat(head).startsWith("HTTP/1.1 200");
        Matcher m = CONTENT_LENGTH.matcher(head.toLowerCase(Locale.ROOT));
        assertThat(m.find()).as("Content-Length in %s", head).isTrue();
        in.readNBytes(Integer.parseInt(m.group(1)));
    }
}
