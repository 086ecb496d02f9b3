package dev.switchboard.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.config.SidecarConfig;
import dev.switchboard.config.UpstreamRoute;
import dev.switchboard.testing.RawHttp;
import dev.switchboard.testing.Slow;
import dev.switchboard.testing.TestServer;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * WebSocket passthrough (docs/sidecar.md): the JDK's WebSocket client through Switchboard to upstream.py's WebSocket
 * (a minimal RFC 6455 server written in the app, since Python's standard library has none), over real sockets: the
 * upgrade request reaches the upstream with its headers, frames go both ways unchanged, closes go both ways, a client
 * that does not read stops the upstream's writes, the idle timeout closes both sides, and refusals are the upstream's
 * own or Switchboard's error JSON.
 */
@Slow
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SidecarWebSocketTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient http = HttpClient.newHttpClient();
    private static UpstreamApp app;
    private static TestServer server;
    private static TestServer quickIdle;

    @BeforeAll
    static void start() throws Exception {
        app = UpstreamApp.start();
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        server = TestServer.startSidecar(SidecarConfig.NONE.withRoutes(List.of(UpstreamRoute.of("/", app.url()),
                UpstreamRoute.of("/down", "http://127.0.0.1:" + closedPort))), c -> c);
        quickIdle = TestServer.startSidecar(SidecarConfig.NONE.withRoutes(List.of(UpstreamRoute.of("/", app.url()))),
                c -> c.withLimits(c.limits().withRequestTimeouts(c.limits().headerTimeout(), Duration.ofSeconds(1))));
    }

    @AfterAll
    static void stop() {
        server.close();
        quickIdle.close();
        app.close();
    }

    /** What a client's WebSocket received; it asks for more only while {@code reading}. */
    static final class Received implements WebSocket.Listener {
        final LinkedBlockingQueue<String> texts = new LinkedBlockingQueue<>();
        final MessageDigest binary;
        final AtomicLong binaryBytes = new AtomicLong();
        final CompletableFuture<String> closed = new CompletableFuture<>();
        volatile boolean reading = true;

        Received() throws Exception {
            binary = MessageDigest.getInstance("SHA-256");
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            texts.add(data.toString());
            more(ws);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            binaryBytes.addAndGet(data.remaining());
            binary.update(data);
            more(ws);
            return null;
        }

        private void more(WebSocket ws) {
            if (reading) {
                ws.request(1);
            }
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
            closed.complete(status + " " + reason);
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            closed.complete("error " + error);
        }

        String text() throws InterruptedException {
            String t = texts.poll(10, TimeUnit.SECONDS);
            assertThat(t).as("a text message within 10 s").isNotNull();
            return t;
        }
    }

    private static WebSocket open(TestServer s, String path, Received r) throws Exception {
        return http.newWebSocketBuilder().header("X-Custom", "through").buildAsync(
                URI.create("ws://127.0.0.1:" + s.port() + path), r).get(10, TimeUnit.SECONDS);
    }

    private static int openAtUpstream() throws Exception {
        return JSON.readTree(http.send(HttpRequest.newBuilder(app.uri("/ws/open")).build(),
                HttpResponse.BodyHandlers.ofString()).body()).path("open").asInt();
    }

    @Test
    void framesGoBothWaysUnchangedAndACloseFromTheClientReachesTheUpstream() throws Exception {
        Received r = new Received();
        WebSocket ws = open(server, "/ws/echo?room=1", r);
        JsonNode hello = JSON.readTree(r.text());
        assertThat(hello.path("path").asText()).isEqualTo("/ws/echo?room=1");
        JsonNode h = hello.path("headers");
        assertThat(h.path("upgrade").asText()).isEqualToIgnoringCase("websocket");
        assertThat(h.path("connection").asText()).containsIgnoringCase("upgrade");
        assertThat(h.path("sec-websocket-key").asText()).isNotBlank();
        assertThat(h.path("x-custom").asText()).isEqualTo("through");
        assertThat(h.path("x-forwarded-for").asText()).isEqualTo("127.0.0.1");
        assertThat(h.path("traceparent").asText()).matches("00-[0-9a-f]{32}-[0-9a-f]{16}-01");

        ws.sendText("hello, upstream", true).get(10, TimeUnit.SECONDS);
        assertThat(r.text()).isEqualTo("hello, upstream");
        byte[] big = new byte[3 * 1024 * 1024];
        new Random(5).nextBytes(big);
        ws.sendBinary(ByteBuffer.wrap(big), true).get(30, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(30)).until(() -> r.binaryBytes.get() == big.length);
        assertThat(r.binary.digest()).isEqualTo(MessageDigest.getInstance("SHA-256").digest(big));
        assertThat(http.send(HttpRequest.newBuilder(server.uri("/v1/topics")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).as("Switchboard's own paths beside it").isEqualTo(200);

        ws.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(10, TimeUnit.SECONDS);
        assertThat(r.closed.get(10, TimeUnit.SECONDS)).as("the upstream's closing handshake").startsWith("1000");
        await().atMost(Duration.ofSeconds(10)).until(() -> openAtUpstream() == 0);
    }

    @Test
    void theUpstreamsCloseReachesTheClient() throws Exception {
        Received r = new Received();
        WebSocket ws = open(server, "/ws/echo", r);
        r.text();
        ws.sendText("close-me", true);
        assertThat(r.closed.get(10, TimeUnit.SECONDS)).isEqualTo("1000 bye");
        await().atMost(Duration.ofSeconds(10)).until(() -> openAtUpstream() == 0);
    }

    @Test
    void aClientThatGoesAwayClosesTheUpstreamsSocket() throws Exception {
        Received r = new Received();
        WebSocket ws = open(server, "/ws/echo", r);
        r.text();
        await().atMost(Duration.ofSeconds(10)).until(() -> openAtUpstream() == 1);
        ws.abort();
        await().atMost(Duration.ofSeconds(10)).until(() -> openAtUpstream() == 0);
    }

    @Test
    void aClientThatDoesNotReadStopsTheUpstreamsWritesThenGetsEveryByte() throws Exception {
        int total = 128 * 1024 * 1024;
        Received r = new Received();
        r.reading = false;
        WebSocket ws = open(server, "/ws/flood?n=" + total + "&id=ws-flood", r);
        r.text();
        long written = SidecarBackpressureTest.awaitStalled(() -> progress("ws-flood").path("written").asLong());
        assertThat(written).as("the upstream's writes stop while the client does not read")
                .isLessThan(SidecarBackpressureTest.STALLED_AT_MOST).isLessThan(total);

        r.reading = true;
        ws.request(1);
        await().atMost(Duration.ofSeconds(60)).until(() -> r.binaryBytes.get() == total);
        String sent = await().atMost(Duration.ofSeconds(10)).until(() -> progress("ws-flood").path("sha256").asText(),
                s -> !s.isEmpty());
        assertThat(HexFormat.of().formatHex(r.binary.digest())).isEqualTo(sent);
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "");
        assertThat(r.closed.get(10, TimeUnit.SECONDS)).startsWith("1000");
    }

    @Test
    void anIdlePassthroughIsClosedOnBothSides() throws Exception {
        Received r = new Received();
        open(quickIdle, "/ws/echo", r);
        r.text();
        assertThat(r.closed.get(20, TimeUnit.SECONDS)).as("closed after 1 s without a byte either way")
                .isNotEmpty();
        await().atMost(Duration.ofSeconds(10)).until(() -> openAtUpstream() == 0);
    }

    @Test
    void refusalsAreTheUpstreamsOwnOrSwitchboardsErrors() throws Exception {
        assertThatThrownBy(() -> open(server, "/ws/echo?refuse=1", new Received()))
                .isInstanceOf(ExecutionException.class).cause().isInstanceOf(WebSocketHandshakeException.class)
                .satisfies(e -> assertThat(((WebSocketHandshakeException) e).getResponse().statusCode())
                        .isEqualTo(403));
        assertThat(rawUpgrade("/ws/echo?refuse=1").body()).as("the upstream's own answer").contains("refused");
        RawHttp.Response down = rawUpgrade("/down/ws");
        assertThat(down.status()).isEqualTo(502);
        assertThat(JSON.readTree(down.body()).at("/error/code").asText()).isEqualTo("upstream_unavailable");
    }

    private static RawHttp.Response rawUpgrade(String path) {
        try (RawHttp raw = new RawHttp(server.port(), 10_000)) {
            raw.write("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                    + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
            RawHttp.Response r = raw.read();
            assertThat(r.header("connection")).as("its connection closes").isEqualToIgnoringCase("close");
            return r;
        }
    }

    private static JsonNode progress(String id) throws Exception {
        return JSON.readTree(http.send(HttpRequest.newBuilder(app.uri("/progress?id=" + id)).build(),
                HttpResponse.BodyHandlers.ofString()).body());
    }
}
