package dev.switchboard.h2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testing.Curl;
import dev.switchboard.testing.TestServer;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * HTTP/2 in clear text (h2c): curl by prior knowledge and by {@code Upgrade: h2c}, the JDK's client by upgrade, flow
 * control per stream with a raw client that stops reading one stream, the stream limit, and {@code --http2 off}.
 */
class Http2ClearTextTest {
    private static final int MAX_STREAMS = 7;
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(c -> c.withProtocols(c.protocols().withMaxStreamsPerConnection(MAX_STREAMS))
                .withLimits(c.limits().withSlowConsumerTimeout(Duration.ofSeconds(2))));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    /** curl's output: the body, then a last line "{http_version} {http_code}". */
    private static String last(List<String> lines) {
        return lines.getLast();
    }

    @Test
    void curlByPriorKnowledgePublishesAndPolls() throws Exception {
        List<String> published = Curl.run("--http2-prior-knowledge", "-H", "Content-Type: text/plain", "--data-binary",
                "prior knowledge", server.url() + "/v1/topics/h2c-prior/messages");
        assertThat(last(published)).isEqualTo("2 201");
        List<String> polled = Curl.run("--http2-prior-knowledge", server.url() + "/v1/topics/h2c-prior/messages");
        assertThat(last(polled)).isEqualTo("2 200");
        assertThat(polled.getFirst()).contains("prior knowledge");
    }

    @Test
    void curlUpgradesToH2c() throws Exception {
        server.post("/v1/topics/h2c-upgrade/messages", "text/plain", "upgraded");
        List<String> polled = Curl.run("--http2", server.url() + "/v1/topics/h2c-upgrade/messages");
        assertThat(last(polled)).isEqualTo("2 200");
        assertThat(polled.getFirst()).contains("upgraded");
        // a request with a body upgrades too, and is answered on stream 1
        List<String> published = Curl.run("--http2", "-H", "Content-Type: text/plain", "--data-binary", "posted",
                server.url() + "/v1/topics/h2c-upgrade/messages");
        assertThat(last(published)).isEqualTo("2 201");
    }

    /**
     * Only a connection's requests up to the first that does not ask may upgrade: after a plain request the upgrade
     * handlers are gone and {@code Upgrade: h2c} is ignored (RFC 9110 7.8), while the same request first upgrades.
     */
    @Test
    void anUpgradeAfterAPlainRequestOnTheConnectionIsIgnored() throws Exception {
        String upgrade = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                + "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n";
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.getOutputStream().write(upgrade.getBytes(StandardCharsets.US_ASCII));
            assertThat(statusLine(s.getInputStream())).isEqualTo("HTTP/1.1 101 Switching Protocols");
        }
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            out.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(statusLine(in)).isEqualTo("HTTP/1.1 200 OK");
            out.write(upgrade.getBytes(StandardCharsets.US_ASCII));
            assertThat(statusLine(in)).isEqualTo("HTTP/1.1 200 OK");
        }
    }

    /** Reads one answer's head and its {@code Content-Length} body; returns its status line. */
    private static String statusLine(InputStream in) throws IOException {
        List<String> head = new ArrayList<>();
        StringBuilder line = new StringBuilder();
        for (int b; (b = in.read()) != -1; ) {
            if (b != '\n') {
                line.append((char) b);
            } else if (line.toString().strip().isEmpty()) {
                break;
            } else {
                head.add(line.toString().strip());
                line.setLength(0);
            }
        }
        int length = head.stream().filter(h -> h.toLowerCase().startsWith("content-length:"))
                .mapToInt(h -> Integer.parseInt(h.substring(h.indexOf(':') + 1).strip())).findFirst().orElse(0);
        in.readNBytes(length);
        return head.isEmpty() ? "" : head.getFirst();
    }

    @Test
    void aHeadLargerThanTheHeaderLimitIsRefusedWith431() throws Exception {
        String big = "x".repeat(server.server().config().limits().maxHeaderBytes());
        List<String> refused = Curl.run("--http2-prior-knowledge", "-H", "X-Big: " + big, server.url() + "/healthz");
        assertThat(last(refused)).isEqualTo("2 431");
        // and the server goes on serving
        assertThat(last(Curl.run("--http2-prior-knowledge", server.url() + "/healthz"))).isEqualTo("2 200");
    }

    @Test
    void jdkClientUpgradesAndReusesTheConnection() throws Exception {
        try (HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build()) {
            for (int i = 0; i < 3; i++) {
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(server.uri("/healthz")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
            }
        }
    }

    @Test
    void curlFollowsAnSseStreamOverH2c() throws Exception {
        Process sse = new ProcessBuilder("curl", "-sS", "-N", "--max-time", "20", "--http2-prior-knowledge",
                server.url() + "/v1/topics/h2c-sse/events").start();
        try {
            StringBuffer seen = new StringBuffer();
            Thread.ofVirtual().start(() -> {
                try {
                    byte[] buf = new byte[4096];
                    for (int n; (n = sse.getInputStream().read(buf)) >= 0; ) {
                        seen.append(new String(buf, 0, n, StandardCharsets.UTF_8));
                    }
                } catch (IOException ignored) {
                    // killed
                }
            });
            // the stream is subscribed once the x-ray lists it
            await().atMost(Duration.ofSeconds(10)).until(() -> server.get("/v1/admin/connections").body()
                    .contains("\"topic\":\"h2c-sse\""));
            server.post("/v1/topics/h2c-sse/messages", "text/plain", "pushed over h2c");
            await().atMost(Duration.ofSeconds(10)).until(() -> seen.toString().contains("data: pushed over h2c"));
        } finally {
            sse.destroyForcibly().waitFor();
        }
    }

    /**
     * One stream whose reader stops granting window: the server stops writing it (its channel turns unwritable when
     * the window is used up) while the other stream on the same connection keeps receiving; after the slow-consumer
     * timeout only the stalled stream is reset, not the connection.
     */
    @Test
    void aStalledStreamDoesNotHoldUpTheOthersOnItsConnection() throws Exception {
        int window = 16 * 1024;
        try (RawH2Client client = new RawH2Client(server.port(), window)) {
            RawH2Client.Received stalled = client.get("/v1/topics/h2c-stalled/events", false);
            RawH2Client.Received flowing = client.get("/v1/topics/h2c-flowing/events", true);
            await().atMost(Duration.ofSeconds(10)).until(() -> "200".equals(stalled.status)
                    && "200".equals(flowing.status));
            await().atMost(Duration.ofSeconds(10)).until(() -> server.get("/v1/admin/connections").body()
                    .contains("\"topic\":\"h2c-flowing\""));
            String big = "x".repeat(4096);
            for (int i = 0; i < 40; i++) { // 160 KiB: ten times the stalled stream's window
                server.post("/v1/topics/h2c-stalled/messages", "text/plain", big);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> stalled.bytes.get() >= window);
            for (int i = 0; i < 5; i++) {
                server.post("/v1/topics/h2c-flowing/messages", "text/plain", "flowing " + i);
                int n = i;
                await().atMost(Duration.ofSeconds(5)).until(() -> flowing.text.toString().contains("flowing " + n));
            }
            assertThat(stalled.bytes.get()).as("the server sent no more than the window").isLessThanOrEqualTo(window);

            await().atMost(Duration.ofSeconds(15)).until(() -> stalled.reset);
            assertThat(client.isOpen()).isTrue();
            server.post("/v1/topics/h2c-flowing/messages", "text/plain", "after the reset");
            await().atMost(Duration.ofSeconds(5)).until(() -> flowing.text.toString().contains("after the reset"));
            assertThat(flowing.reset).isFalse();
        }
    }

    @Test
    void theServerAnnouncesItsLimitsAndServesStreamsUpToThem() throws Exception {
        try (RawH2Client client = new RawH2Client(server.port(), 65535)) {
            List<RawH2Client.Received> open = new ArrayList<>();
            for (int i = 0; i < MAX_STREAMS; i++) {
                open.add(client.get("/v1/topics/h2c-limit-" + i + "/events", true));
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> open.stream().allMatch(r -> "200".equals(r.status)));
            assertThat(client.serverSettings.maxConcurrentStreams()).isEqualTo(MAX_STREAMS);
            assertThat(client.serverSettings.maxHeaderListSize()).isEqualTo(server.server().config().limits()
                    .maxHeaderBytes());
        }
    }

    /** A client that ignores SETTINGS_MAX_CONCURRENT_STREAMS: the stream past it is refused, the others served. */
    @Test
    void aStreamPastTheLimitIsRefused() throws Exception {
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            out.write(RawFrames.preface());
            RawFrames.Frame settings;
            do {
                settings = RawFrames.read(in);
            } while (settings.type() != RawFrames.TYPE_SETTINGS || (settings.flags() & RawFrames.FLAG_ACK) != 0);
            out.write(RawFrames.settingsAck()); // the server's limits apply once acknowledged
            int past = 2 * MAX_STREAMS + 1;
            for (int stream = 1; stream <= past; stream += 2) {
                out.write(RawFrames.get(stream, "localhost:" + server.port(), "/v1/topics/h2c-raw/events"));
            }
            out.flush();
            Set<Integer> answered = new HashSet<>();
            RawFrames.Frame reset = null;
            while (reset == null || answered.size() < MAX_STREAMS) {
                RawFrames.Frame f = RawFrames.read(in);
                if (f.type() == RawFrames.TYPE_HEADERS) {
                    answered.add(f.stream());
                } else if (f.type() == RawFrames.TYPE_RST_STREAM) {
                    reset = f;
                }
            }
            assertThat(reset.stream()).isEqualTo(past);
            assertThat(java.nio.ByteBuffer.wrap(reset.payload()).getInt()).as("REFUSED_STREAM").isEqualTo(0x7);
            assertThat(answered).doesNotContain(past).hasSize(MAX_STREAMS);
        }
    }

    /**
     * WebSocket over HTTP/2 (RFC 8441): the server announces extended CONNECT, a stream opened with
     * {@code :protocol websocket} is answered 200 and carries WebSocket frames both ways, beside other streams.
     */
    @Test
    void aWebSocketRunsOnAnHttp2StreamByExtendedConnect() throws Exception {
        try (RawH2Client client = new RawH2Client(server.port(), 65535)) {
            await().atMost(Duration.ofSeconds(10)).until(() -> client.serverSettings != null);
            RawH2Client.Received ws = client.webSocket("/v1/ws?subscribe=h2c-ws&from=next");
            await("the 200 to the CONNECT").atMost(Duration.ofSeconds(10)).until(() -> "200".equals(ws.status));
            assertThat(client.serverSettings.connectProtocolEnabled()).isTrue();
            await().atMost(Duration.ofSeconds(10)).until(() -> ws.text.toString().contains("\"op\":\"subscribed\""));

            server.post("/v1/topics/h2c-ws/messages", "text/plain", "pushed to a ws stream");
            await().atMost(Duration.ofSeconds(10)).until(() -> ws.text.toString().contains("pushed to a ws stream"));

            client.send(ws, maskedText("{\"op\":\"publish\",\"topic\":\"h2c-ws\",\"data\":\"from the stream\","
                    + "\"id\":\"r1\"}"));
            await().atMost(Duration.ofSeconds(10)).until(() -> ws.text.toString().contains("\"op\":\"ack\"")
                    && ws.text.toString().contains("from the stream"));
            // a plain request on another stream of the same connection meanwhile
            RawH2Client.Received sse = client.get("/v1/topics/h2c-ws/events?from=earliest", true);
            await().atMost(Duration.ofSeconds(10)).until(() -> sse.text.toString().contains("from the stream"));
            // the x-ray: one h2 connection with both streams, and the subscription of each
            JsonNode h2 = null;
            for (JsonNode c : new ObjectMapper().readTree(server.get("/v1/admin/connections").body())
                    .path("connections")) {
                h2 = c.path("protocol").asText().equals("h2") ? c : h2;
            }
            assertThat(h2).isNotNull();
            assertThat(h2.path("streams").asInt()).isEqualTo(2);
            assertThat(h2.path("subscriptions").findValuesAsText("topic")).containsExactly("h2c-ws", "h2c-ws");
            assertThat(ws.reset).isFalse();
        }
    }

    /** A client's text frame, masked as RFC 6455 5.3 requires, by Netty's own encoder. */
    static byte[] maskedText(String text) {
        EmbeddedChannel ch = new EmbeddedChannel(new WebSocket13FrameEncoder(true));
        ch.writeOutbound(new TextWebSocketFrame(text));
        io.netty.buffer.CompositeByteBuf all = io.netty.buffer.Unpooled.compositeBuffer();
        for (io.netty.buffer.ByteBuf b; (b = ch.readOutbound()) != null; ) {
            all.addComponent(true, b);
        }
        byte[] bytes = io.netty.buffer.ByteBufUtil.getBytes(all);
        all.release();
        ch.finishAndReleaseAll();
        return bytes;
    }

    /**
     * Stopping the server with an SSE stream open on an h2 connection: GOAWAY, then the connection closes after a
     * short grace (Netty's default would hold the stop for 30 s while the stream stays open).
     */
    @Test
    void stoppingTheServerEndsOpenStreamsPromptly() throws Exception {
        TestServer own = TestServer.start();
        try (RawH2Client client = new RawH2Client(own.port(), 65535)) {
            RawH2Client.Received stream = client.get("/v1/topics/h2c-stop/events", true);
            await().atMost(Duration.ofSeconds(10)).until(() -> "200".equals(stream.status));
            assertTimeoutPreemptively(Duration.ofSeconds(15), own::close);
            await().atMost(Duration.ofSeconds(10)).until(() -> !client.isOpen());
        }
    }

    @Test
    void http2OffSpeaksHttp11Only() throws Exception {
        try (TestServer h1 = TestServer.start(c -> c.withProtocols(c.protocols().withHttp2(false)))) {
            List<String> upgraded = Curl.run("--http2", h1.url() + "/healthz");
            assertThat(last(upgraded)).isEqualTo("1.1 200");
            try (HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build()) {
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(h1.url() + "/healthz")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
            }
            List<String> prior = Curl.run("--http2-prior-knowledge", h1.url() + "/healthz");
            assertThat(last(prior)).doesNotStartWith("2 ");
        }
    }
}
