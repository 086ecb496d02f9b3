package dev.switchboard.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.config.SidecarConfig;
import dev.switchboard.config.UpstreamRoute;
import dev.switchboard.testing.Curl;
import dev.switchboard.testing.RawHttp;
import dev.switchboard.testing.Slow;
import dev.switchboard.testing.TestServer;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

/**
 * Sidecar mode in front of a real upstream process (upstream.py) over real sockets, with the JDK's HttpClient and raw
 * sockets: what is proxied and what is Switchboard's, methods, headers both ways, large and chunked bodies both ways,
 * {@code Expect: 100-continue}, 502, 504, retries, the breaker, traceparent, the access log, metrics and the admin
 * view of upstream connections.
 */
@Slow
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SidecarProxyTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static UpstreamApp app;
    private static UpstreamApp flakyApp;
    private static int closedPort;
    private static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        app = UpstreamApp.start();
        flakyApp = UpstreamApp.start();
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort(); // nothing listens there once closed
        }
        SidecarConfig sidecar = SidecarConfig.NONE.withRoutes(List.of(
                        UpstreamRoute.of("/", app.url()),
                        UpstreamRoute.of("/down", "http://127.0.0.1:" + closedPort),
                        UpstreamRoute.of("/breaker", flakyApp.url())))
                .withTimeout(Duration.ofSeconds(2)).withBreakerOpenFor(Duration.ofSeconds(1));
        server = TestServer.startSidecar(sidecar, c -> c);
    }

    @AfterAll
    static void stop() {
        server.close();
        app.close();
        flakyApp.close();
    }

    private static HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
        return http.send(b.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpRequest.Builder to(String path) {
        return HttpRequest.newBuilder(server.uri(path));
    }

    private static JsonNode json(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body());
    }

    private static void assertError(HttpResponse<String> r, int status, String code) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(json(r).path("error").path("code").asText()).as(r.body()).isEqualTo(code);
        assertThat(json(r).path("error").path("message").asText()).isNotBlank();
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    @Test
    void switchboardKeepsItsOwnPathsAndTheDashboardMovesUnderSwitchboard() throws Exception {
        assertThat(send(to("/healthz")).statusCode()).isEqualTo(200);
        assertThat(send(to("/v1/topics")).body()).contains("\"topics\"");
        HttpResponse<String> dashboard = send(to("/_switchboard/"));
        assertThat(dashboard.statusCode()).isEqualTo(200);
        assertThat(dashboard.body()).contains("dashboard/app.js");
        assertThat(send(to("/_switchboard/dashboard/app.js")).statusCode()).isEqualTo(200);
        // "/" and everything else belong to the app now
        HttpResponse<String> root = send(to("/"));
        assertThat(root.statusCode()).isEqualTo(404);
        assertThat(root.body()).isEqualTo("{\"error\":\"no such path\"}");
        assertThat(send(to("/dashboard/app.js")).body()).isEqualTo("{\"error\":\"no such path\"}");
    }

    @Test
    void aWebSocketToSwitchboardPassesTheProxyBy() throws Exception {
        java.util.concurrent.CompletableFuture<String> first = new java.util.concurrent.CompletableFuture<>();
        java.net.http.WebSocket ws = http.newWebSocketBuilder().buildAsync(
                URI.create("ws://127.0.0.1:" + server.port() + "/v1/ws"), new java.net.http.WebSocket.Listener() {
                    @Override
                    public java.util.concurrent.CompletionStage<?> onText(java.net.http.WebSocket w,
                                                                          CharSequence data, boolean last) {
                        first.complete(data.toString());
                        return null;
                    }
                }).get(10, TimeUnit.SECONDS);
        ws.sendText("{\"op\":\"subscribe\",\"topic\":\"sidecar.ws\"}", true);
        assertThat(first.get(10, TimeUnit.SECONDS)).contains("\"op\":\"subscribed\"");
        ws.abort();
        assertThat(send(to("/echo")).statusCode()).isEqualTo(200);
    }

    @Test
    void everyMethodAndItsHeadersReachTheUpstreamWithoutHopByHopHeaders() throws Exception {
        for (String method : List.of("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")) {
            HttpResponse<String> r = send(to("/echo?x=1").method(method, HttpRequest.BodyPublishers.ofString("hi"))
                    .header("X-Custom", "value-" + method));
            assertThat(r.statusCode()).as(method).isEqualTo(200);
            assertThat(r.headers().firstValue("X-Upstream")).as("the upstream's own headers come back")
                    .contains("python");
            JsonNode echo = json(r);
            assertThat(echo.path("method").asText()).isEqualTo(method);
            assertThat(echo.path("path").asText()).isEqualTo("/echo?x=1");
            assertThat(echo.path("length").asInt()).isEqualTo(2);
            JsonNode h = echo.path("headers");
            assertThat(h.path("x-custom").asText()).isEqualTo("value-" + method);
            assertThat(h.path("x-forwarded-for").asText()).isEqualTo("127.0.0.1");
            assertThat(h.path("x-forwarded-proto").asText()).isEqualTo("http");
            assertThat(h.path("x-forwarded-host").asText()).isEqualTo("127.0.0.1:" + server.port());
        }
        HttpResponse<String> head = send(to("/echo").method("HEAD", HttpRequest.BodyPublishers.noBody()));
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.body()).isEmpty();

        try (RawHttp raw = new RawHttp(server.port(), 10_000)) {
            raw.write("GET /echo HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive, X-Secret\r\nX-Secret: s\r\n"
                    + "Keep-Alive: timeout=5\r\nX-Forwarded-For: 10.0.0.1\r\nTE: trailers\r\n\r\n");
            RawHttp.Response r = raw.read();
            JsonNode h = JSON.readTree(r.body()).path("headers");
            assertThat(h.has("x-secret")).as("named by Connection").isFalse();
            assertThat(h.has("keep-alive")).isFalse();
            assertThat(h.has("te")).isFalse();
            assertThat(h.path("connection").asText("")).doesNotContain("X-Secret");
            assertThat(h.path("x-forwarded-for").asText()).isEqualTo("10.0.0.1, 127.0.0.1");
            assertThat(h.path("host").asText()).isEqualTo("localhost");
            // the same client connection serves the next request (kept alive)
            raw.write("GET /v1/topics HTTP/1.1\r\nHost: localhost\r\n\r\n");
            assertThat(raw.read().body()).contains("\"topics\"");
            raw.write("GET /echo HTTP/1.1\r\nHost: localhost\r\n\r\n");
            assertThat(raw.read().status()).isEqualTo(200);
        }
    }

    /** HTTP/2 clients are proxied like HTTP/1.1 ones: each stream runs the same request chain, proxy included. */
    @Test
    void anHttp2ClientsRequestsAndBodiesAreProxied() throws Exception {
        byte[] body = new byte[3 * 1024 * 1024];
        new Random(11).nextBytes(body);
        Path file = Files.createTempFile("sidecar-h2", ".bin");
        try {
            Files.write(file, body);
            List<String> echoed = Curl.run("--http2-prior-knowledge", "-X", "PUT", "-H", "X-Custom: over-h2",
                    "--data-binary", "@" + file, server.url() + "/echo?via=h2");
            assertThat(echoed.getLast()).isEqualTo("2 200");
            JsonNode echo = JSON.readTree(String.join("\n", echoed.subList(0, echoed.size() - 1)));
            assertThat(echo.path("method").asText()).isEqualTo("PUT");
            assertThat(echo.path("path").asText()).isEqualTo("/echo?via=h2");
            assertThat(echo.path("length").asInt()).isEqualTo(body.length);
            assertThat(echo.path("sha256").asText()).isEqualTo(sha256(body));
            assertThat(echo.at("/headers/x-custom").asText()).isEqualTo("over-h2");
        } finally {
            Files.delete(file);
        }
        assertThat(Curl.run("--http2-prior-knowledge", server.url() + "/v1/topics").getLast())
                .as("Switchboard's own paths on the same kind of connection").isEqualTo("2 200");
    }

    @Test
    void largeAndChunkedBodiesStreamBothWays() throws Exception {
        byte[] body = new byte[12 * 1024 * 1024]; // larger than --max-message-bytes: never aggregated
        new Random(7).nextBytes(body);
        // a body of unknown length goes chunked
        HttpResponse<byte[]> mirrored = http.send(to("/mirror").POST(HttpRequest.BodyPublishers.ofInputStream(
                () -> new ByteArrayInputStream(body))).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(mirrored.statusCode()).isEqualTo(200);
        assertThat(mirrored.headers().firstValue("transfer-encoding")).contains("chunked");
        assertThat(sha256(mirrored.body())).isEqualTo(sha256(body));

        HttpResponse<String> sized = send(to("/echo").PUT(HttpRequest.BodyPublishers.ofByteArray(body)));
        assertThat(json(sized).path("length").asInt()).isEqualTo(body.length);
        assertThat(json(sized).path("sha256").asText()).isEqualTo(sha256(body));

        int n = 30 * 1024 * 1024;
        HttpResponse<InputStream> big = http.send(to("/big?n=" + n).build(), HttpResponse.BodyHandlers.ofInputStream());
        long read = 0;
        try (InputStream in = big.body()) {
            byte[] buf = new byte[65536];
            for (int k; (k = in.read(buf)) >= 0; ) {
                for (int i = 0; i < k; i++) {
                    assertThat(buf[i]).isEqualTo((byte) ((read + i) % 256));
                }
                read += k;
            }
        }
        assertThat(read).isEqualTo(n);
    }

    @Test
    void expectContinueIsAnsweredBeforeTheBodyIsSent() throws Exception {
        try (RawHttp raw = new RawHttp(server.port(), 10_000)) {
            raw.write("POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
            RawHttp.Response cont = raw.read();
            assertThat(cont.status()).isEqualTo(100);
            raw.write("hello");
            RawHttp.Response r = raw.read();
            assertThat(r.status()).isEqualTo(200);
            JsonNode echo = JSON.readTree(r.body());
            assertThat(echo.path("length").asInt()).isEqualTo(5);
            assertThat(echo.path("headers").has("expect")).as("the proxy answered it").isFalse();
        }
        try (RawHttp raw = new RawHttp(server.port(), 10_000)) {
            raw.write("POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nExpect: something-else\r\n\r\n");
            RawHttp.Response r = raw.read();
            assertThat(r.status()).isEqualTo(417);
            assertThat(r.body()).contains("\"expectation_failed\"");
        }
    }

    @Test
    void anUpstreamThatIsDownIsA502AtOnce() throws Exception {
        long started = System.nanoTime();
        HttpResponse<String> r = send(to("/down/anything").POST(HttpRequest.BodyPublishers.ofString("x")));
        assertError(r, 502, "upstream_unavailable");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(2));
    }

    @Test
    void aSlowUpstreamIsA504AtTheTimeout() throws Exception {
        long started = System.nanoTime();
        HttpResponse<String> r = send(to("/slow?ms=6000"));
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        assertError(r, 504, "upstream_timeout");
        assertThat(took).isGreaterThanOrEqualTo(Duration.ofSeconds(2)).isLessThan(Duration.ofSeconds(6));
        // the connection that timed out was not given back to the pool: the next request is answered normally
        assertThat(send(to("/echo")).statusCode()).isEqualTo(200);
    }

    @Test
    void onlyIdempotentRequestsAreRetried() throws Exception {
        HttpResponse<String> get = send(to("/flaky?key=get&fails=2"));
        assertThat(get.statusCode()).as(get.body()).isEqualTo(200);
        assertThat(json(get).path("hits").asInt()).as("two lost connections, then an answer").isEqualTo(3);

        HttpResponse<String> post = send(to("/flaky?key=post&fails=1").POST(HttpRequest.BodyPublishers.ofString("x")));
        assertError(post, 502, "upstream_unavailable");
        HttpResponse<String> hits = http.send(HttpRequest.newBuilder(app.uri("/hits?key=post")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(json(hits).path("hits").asInt()).as("a POST is sent once").isEqualTo(1);
    }

    @Test
    void theBreakerOpensAfterFailuresAndRecoversThroughHalfOpenProbes() throws Exception {
        assertThat(send(to("/breaker/echo")).statusCode()).as("the app's own 404").isEqualTo(404);
        flakyApp.stop();
        // the breaker judges 5 calls at least: 1 success and 4 failures is 80 % failed, over the 50 % threshold
        for (int i = 0; i < 4; i++) {
            assertError(send(to("/breaker/echo").POST(HttpRequest.BodyPublishers.ofString("x"))), 502,
                    "upstream_unavailable");
        }
        assertError(send(to("/breaker/echo")), 503, "circuit_open");
        flakyApp.restart();
        // open for 1 s, then probes go through; once they succeed the breaker closes
        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(200))
                .until(() -> send(to("/breaker/echo")).statusCode() == 404);
        for (int i = 0; i < 5; i++) {
            assertThat(send(to("/breaker/echo")).statusCode()).isEqualTo(404);
        }
    }

    @Test
    void traceparentIsPropagatedOrStarted() throws Exception {
        String incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        String sent = json(send(to("/echo").header("traceparent", incoming))).path("headers").path("traceparent")
                .asText();
        assertThat(sent).matches("00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01")
                .isNotEqualTo(incoming);
        String started = json(send(to("/echo"))).path("headers").path("traceparent").asText();
        assertThat(started).matches("00-[0-9a-f]{32}-[0-9a-f]{16}-01");
        String invalid = json(send(to("/echo").header("traceparent", "00-zz-bad"))).path("headers")
                .path("traceparent").asText();
        assertThat(invalid).matches("00-[0-9a-f]{32}-[0-9a-f]{16}-01");
    }

    @Test
    void eachRequestIsLoggedCountedAndItsUpstreamConnectionsListed() throws Exception {
        Logger accessLog = (Logger) LoggerFactory.getLogger("switchboard.access");
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.start();
        accessLog.addAppender(lines);
        accessLog.setLevel(ch.qos.logback.classic.Level.INFO);
        accessLog.setAdditive(false);
        try {
            send(to("/echo?token=secret").header("traceparent",
                    "00-11111111111111111111111111111111-2222222222222222-01"));
            // An earlier test's request may be logged late (a 502 is logged once its body was read): find ours.
            String line = await().atMost(Duration.ofSeconds(5)).until(() -> lines.list.stream()
                    .map(ILoggingEvent::getFormattedMessage).filter(l -> l.contains("\"GET /echo\""))
                    .findFirst(), Optional::isPresent).orElseThrow();
            assertThat(line).contains("\"GET /echo\" 200").contains("route=/ attempts=1")
                    .contains("trace=11111111111111111111111111111111").doesNotContain("secret");
        } finally {
            accessLog.detachAppender(lines);
            accessLog.setLevel(null);
            accessLog.setAdditive(true);
        }
        String metrics = send(to("/metrics")).body();
        assertThat(metrics).containsPattern("switchboard_upstream_requests_seconds_count\\{outcome=\"2xx\",route=\"/\"} [1-9]");
        assertThat(metrics).contains("switchboard_upstream_breaker_state{route=\"/breaker\"}");
        assertThat(metrics).containsPattern("switchboard_connections\\{transport=\"upstream\"} [1-9]");
        JsonNode connections = json(send(to("/v1/admin/connections")));
        assertThat(connections.toString()).contains("\"transport\":\"upstream\"");
    }

    @Test
    void uriOfAnUpstreamIsItsHostAndPortOnly() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> UpstreamRoute.parse("/api=http://h:1/base"))
                .hasMessageContaining("no path");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> UpstreamRoute.parse("/api=ftp://h:1"))
                .hasMessageContaining("http[s]://");
        assertThat(UpstreamRoute.parse("/api=http://h").port()).isEqualTo(80);
        assertThat(UpstreamRoute.parse("/api=http://h").tls()).isFalse();
        assertThat(UpstreamRoute.parse("/api=https://h").port()).isEqualTo(443);
        assertThat(UpstreamRoute.parse("/api=HTTPS://h:8443").tls()).isTrue();
        assertThat(UpstreamRoute.parse("/api=http://h:1").matches("/apis")).isFalse();
        assertThat(UpstreamRoute.parse("/api=http://h:1").matches("/api/x")).isTrue();
        assertThat(URI.create(app.url()).getPort()).isEqualTo(app.port());
    }
}
