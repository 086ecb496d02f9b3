package dev.switchboard.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.config.SidecarConfig;
import dev.switchboard.config.UpstreamRoute;
import dev.switchboard.testing.Slow;
import dev.switchboard.testing.TestServer;
import dev.switchboard.testing.TestTls;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * HTTPS upstreams (docs/sidecar.md): upstream.py serving TLS with a development CA's certificate for 127.0.0.1
 * (testing.TestTls). With that CA given ({@code --upstream-ca}) requests, bodies and WebSockets go through; with the
 * JDK's trust store, which does not know the CA, and with a host name the certificate does not name, the upstream
 * is refused: 502, saying why.
 */
@Slow
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SidecarTlsUpstreamTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static TestTls tls;
    private static UpstreamApp app;
    private static UpstreamApp misnamedApp;
    private static TestServer trusting;
    private static TestServer jdkTrust;

    @BeforeAll
    static void start() {
        tls = TestTls.create();
        app = UpstreamApp.startTls(tls.cert(), tls.key(), "127.0.0.1");
        // the certificate names localhost and 127.0.0.1, not 127.0.0.2 (a loopback address too)
        misnamedApp = UpstreamApp.startTls(tls.cert(), tls.key(), "127.0.0.2");
        trusting = TestServer.startSidecar(SidecarConfig.NONE.withRoutes(List.of(UpstreamRoute.of("/", app.url()),
                        UpstreamRoute.of("/misnamed", misnamedApp.url()))).withUpstreamCa(tls.ca()), c -> c);
        jdkTrust = TestServer.startSidecar(SidecarConfig.NONE.withRoutes(List.of(UpstreamRoute.of("/", app.url()))),
                c -> c);
    }

    @AfterAll
    static void stop() {
        trusting.close();
        jdkTrust.close();
        app.close();
        misnamedApp.close();
        tls.close();
    }

    private static HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
        return send(http, b);
    }

    private static HttpResponse<String> send(HttpClient client, HttpRequest.Builder b) throws Exception {
        return client.send(b.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * Over HTTP/1.1, and over HTTP/2 streams (h2c, the JDK's default: its first request, small, upgrades the
     * connection). On a fresh server each time, so that the first body arrives while the pool's connection is still
     * in its TLS handshake, and the stream's reading is paused and resumed from outside its connection's read: what
     * left the stream's window update unflushed and stalled the body (Reading).
     */
    @ParameterizedTest
    @EnumSource(HttpClient.Version.class)
    void requestsAndBodiesGoOverTlsToAnUpstreamTheGivenCaVouchesFor(HttpClient.Version version) throws Exception {
        HttpClient client = HttpClient.newBuilder().version(version).build();
        try (TestServer server = TestServer.startSidecar(SidecarConfig.NONE.withRoutes(List.of(
                UpstreamRoute.of("/", app.url()))).withUpstreamCa(tls.ca()), c -> c)) {
            HttpResponse<String> upgrade = send(client, HttpRequest.newBuilder(server.uri("/healthz")));
            assertThat(upgrade.version()).isEqualTo(version);
            bodiesGoThrough(client, server, version);
        } finally {
            client.close();
        }
    }

    private static void bodiesGoThrough(HttpClient client, TestServer server, HttpClient.Version version)
            throws Exception {
        byte[] body = new byte[3 * 1024 * 1024];
        new Random(9).nextBytes(body);
        for (int i = 0; i < 3; i++) { // the pool's connection, handshaken once, serves the next requests
            HttpResponse<String> r = send(client, HttpRequest.newBuilder(server.uri("/echo?n=" + i))
                    .PUT(HttpRequest.BodyPublishers.ofByteArray(body)));
            assertThat(r.version()).isEqualTo(version);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            JsonNode echo = JSON.readTree(r.body());
            assertThat(echo.path("path").asText()).isEqualTo("/echo?n=" + i);
            assertThat(echo.path("length").asInt()).isEqualTo(body.length);
            assertThat(echo.path("sha256").asText()).isEqualTo(
                    HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body)));
            assertThat(echo.at("/headers/x-forwarded-proto").asText()).as("the client's own scheme").isEqualTo("http");
        }
    }

    @Test
    void aWebSocketPassesThroughToATlsUpstream() throws Exception {
        SidecarWebSocketTest.Received r = new SidecarWebSocketTest.Received();
        WebSocket ws = http.newWebSocketBuilder().buildAsync(
                URI.create("ws://127.0.0.1:" + trusting.port() + "/ws/echo"), r).get(10, TimeUnit.SECONDS);
        assertThat(JSON.readTree(r.text()).path("path").asText()).isEqualTo("/ws/echo");
        ws.sendText("over tls", true).get(10, TimeUnit.SECONDS);
        assertThat(r.text()).isEqualTo("over tls");
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "").get(10, TimeUnit.SECONDS);
        assertThat(r.closed.get(10, TimeUnit.SECONDS)).startsWith("1000");
    }

    @Test
    void anUpstreamCertificateNoTrustedCaSignedIsA502() throws Exception {
        assertTlsRefused(send(HttpRequest.newBuilder(jdkTrust.uri("/echo"))), app);
    }

    @Test
    void anUpstreamCertificateForAnotherNameIsA502() throws Exception {
        assertTlsRefused(send(HttpRequest.newBuilder(trusting.uri("/misnamed/echo"))), misnamedApp);
    }

    private static void assertTlsRefused(HttpResponse<String> r, UpstreamApp upstream) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(502);
        JsonNode error = JSON.readTree(r.body()).path("error");
        assertThat(error.path("code").asText()).isEqualTo("upstream_unavailable");
        assertThat(error.path("message").asText()).contains("TLS with " + upstream.url() + " failed");
    }
}
