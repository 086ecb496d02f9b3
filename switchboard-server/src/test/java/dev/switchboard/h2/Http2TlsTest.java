package dev.switchboard.h2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.config.ServerConfig;
import dev.switchboard.server.SwitchboardServer;
import dev.switchboard.testing.Curl;
import dev.switchboard.testing.TestServer;
import dev.switchboard.testing.TestTls;
import dev.switchboard.transport.tls.DevCertificates;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The port with {@code --tls-cert/--tls-key}: HTTP/2 by ALPN with the JDK's client trusting the development CA,
 * every kind of endpoint over it, WebSocket over TLS, the x-ray's view of TLS, the refusals.
 */
class Http2TlsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static TestTls tls;
    private static TestServer server;
    private static HttpClient h2;

    @BeforeAll
    static void start() {
        tls = TestTls.create();
        server = TestServer.start(tls.serving());
        h2 = tls.http2Client();
    }

    @AfterAll
    static void stop() {
        h2.close();
        server.close();
        tls.close();
    }

    private static URI https(String path) {
        return URI.create("https://localhost:" + server.port() + path);
    }

    private static HttpResponse<String> send(HttpClient client, HttpRequest request) throws Exception {
        return client.send(request, HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> publish(String topic, String body) throws Exception {
        return send(h2, HttpRequest.newBuilder(https("/v1/topics/" + topic + "/messages"))
                .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString(body)).build());
    }

    @Test
    void publishAndPollOverHttp2() throws Exception {
        HttpResponse<String> published = publish("h2-poll", "hello over h2");
        assertThat(published.statusCode()).isEqualTo(201);
        assertThat(published.version()).isEqualTo(HttpClient.Version.HTTP_2);

        HttpResponse<String> polled = send(h2, HttpRequest.newBuilder(https("/v1/topics/h2-poll/messages")).build());
        assertThat(polled.version()).isEqualTo(HttpClient.Version.HTTP_2);
        assertThat(JSON.readTree(polled.body()).path("messages").get(0).path("data").asText())
                .isEqualTo("hello over h2");
    }

    @Test
    void longPollIsHeldOnItsStreamWhileOthersAreAnswered() throws Exception {
        CompletableFuture<HttpResponse<String>> held = h2.sendAsync(HttpRequest.newBuilder(
                https("/v1/topics/h2-long/messages?from=next&wait=20s")).build(), HttpResponse.BodyHandlers.ofString());
        // Other requests on the same connection are answered meanwhile (no head-of-line blocking).
        for (int i = 0; i < 5; i++) {
            assertThat(send(h2, HttpRequest.newBuilder(https("/healthz")).build()).statusCode()).isEqualTo(200);
        }
        assertThat(held).isNotDone();
        assertThat(publish("h2-long", "woken").statusCode()).isEqualTo(201);
        HttpResponse<String> answer = held.get(10, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(answer.version()).isEqualTo(HttpClient.Version.HTTP_2);
        assertThat(answer.body()).contains("woken");
    }

    @Test
    void sseStreamsShareOneConnectionAndEachGetsItsTopic() throws Exception {
        try (SseLines a = SseLines.open(h2, https("/v1/topics/h2-sse-a/events"));
             SseLines b = SseLines.open(h2, https("/v1/topics/h2-sse-b/events"))) {
            assertThat(a.response.version()).isEqualTo(HttpClient.Version.HTTP_2);
            assertThat(b.response.headers().firstValue("content-type")).hasValueSatisfying(
                    t -> assertThat(t).startsWith("text/event-stream"));
            publish("h2-sse-a", "for a");
            publish("h2-sse-b", "for b");
            await().atMost(Duration.ofSeconds(10)).until(() -> a.data.size() == 1 && b.data.size() == 1);
            assertThat(a.data).containsExactly("for a");
            assertThat(b.data).containsExactly("for b");

            JsonNode h2Connections = connectionsWith("h2");
            assertThat(h2Connections).isNotNull();
            assertThat(h2Connections.path("tls").path("protocol").asText()).startsWith("TLSv1.");
            assertThat(h2Connections.path("tls").path("cipher").asText()).startsWith("TLS_");
            // netty-tcnative's BoringSSL is a dependency for linux-x86_64, the only platform the build targets
            assertThat(h2Connections.path("tls").path("provider").asText()).isEqualTo("openssl");
            assertThat(server.server().tls().orElseThrow().providerName()).isEqualTo("openssl");
            assertThat(h2Connections.path("streams").asInt()).isGreaterThanOrEqualTo(3); // 2 streams + this request
            assertThat(h2Connections.path("subscriptions").findValuesAsText("topic"))
                    .contains("h2-sse-a", "h2-sse-b");
        }
    }

    @Test
    void aJobRunsOverHttp2WithItsEventsStreamedOnTheSameConnection() throws Exception {
        HttpResponse<String> submitted = send(h2, HttpRequest.newBuilder(https("/v1/queues/h2-video/jobs"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"n\":1}"))
                .build());
        assertThat(submitted.statusCode()).isEqualTo(202);
        assertThat(submitted.version()).isEqualTo(HttpClient.Version.HTTP_2);
        String id = JSON.readTree(submitted.body()).path("id").asText();
        try (SseLines events = SseLines.open(h2, https("/v1/jobs/" + id + "/events"))) {
            HttpResponse<String> claimed = send(h2, HttpRequest.newBuilder(https("/v1/queues/h2-video/claim?wait=5s"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build());
            assertThat(claimed.statusCode()).isEqualTo(200);
            String lease = JSON.readTree(claimed.body()).path("lease").asText();
            HttpResponse<String> done = send(h2, HttpRequest.newBuilder(https("/v1/jobs/" + id + "/complete"))
                    .header("Lease-Token", lease).header("Content-Type", "text/plain")
                    .POST(HttpRequest.BodyPublishers.ofString("done over h2")).build());
            assertThat(done.statusCode()).isEqualTo(200);
            // the server ends the job's stream after the terminal status: its stream, not the connection
            await().atMost(Duration.ofSeconds(10)).until(() -> events.data.stream()
                    .anyMatch(d -> d.contains("\"status\":\"succeeded\"")));
            HttpResponse<String> result = send(h2, HttpRequest.newBuilder(https("/v1/jobs/" + id + "/result")).build());
            assertThat(result.body()).isEqualTo("done over h2");
            assertThat(result.version()).isEqualTo(HttpClient.Version.HTTP_2);
        }
    }

    /** The first connection of the x-ray on {@code protocol}. */
    private static JsonNode connectionsWith(String protocol) throws Exception {
        JsonNode all = JSON.readTree(send(h2, HttpRequest.newBuilder(https("/v1/admin/connections")).build()).body());
        for (JsonNode c : all.path("connections")) {
            if (c.path("protocol").asText().equals(protocol)) {
                return c;
            }
        }
        return null;
    }

    @Test
    void http11ByAlpnStillWorksOverTls() throws Exception {
        try (HttpClient h1 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(tls.trustingCa())
                .build()) {
            HttpResponse<String> r = send(h1, HttpRequest.newBuilder(https("/healthz")).build());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
        }
    }

    @Test
    void curlOverTlsChoosesH2ByAlpnOrHttp11WhenAsked() throws Exception {
        String url = "https://localhost:" + server.port() + "/v1/topics/h2-curl/messages";
        List<String> published = Curl.run("--http2", "--cacert", tls.ca().toString(), "-H",
                "Content-Type: text/plain", "--data-binary", "curl over h2", url);
        assertThat(published.getLast()).isEqualTo("2 201");
        List<String> polled = Curl.run("--http1.1", "--cacert", tls.ca().toString(), url);
        assertThat(polled.getLast()).isEqualTo("1.1 200");
        assertThat(polled.getFirst()).contains("curl over h2");
        // curl verifies the certificate: without the dev CA it refuses the server
        List<String> untrusted = Curl.run("--http2", url);
        assertThat(String.join("\n", untrusted)).contains("SSL certificate problem");
    }

    @Test
    void webSocketOverTls() throws Exception {
        List<String> received = new CopyOnWriteArrayList<>();
        try (HttpClient h1 = HttpClient.newBuilder().sslContext(tls.trustingCa()).build()) {
            WebSocket ws = h1.newWebSocketBuilder().buildAsync(
                    URI.create("wss://localhost:" + server.port() + "/v1/ws"), new WebSocket.Listener() {
                        @Override
                        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
                            received.add(data.toString());
                            webSocket.request(1);
                            return null;
                        }
                    }).get(10, java.util.concurrent.TimeUnit.SECONDS);
            ws.sendText("{\"op\":\"subscribe\",\"topic\":\"h2-wss\",\"from\":\"next\"}", true);
            await().atMost(Duration.ofSeconds(10)).until(() -> received.stream().anyMatch(m -> m.contains("subscribed")));
            publish("h2-wss", "over wss");
            await().atMost(Duration.ofSeconds(10)).until(() -> received.stream().anyMatch(m -> m.contains("over wss")));
            ws.abort();
        }
    }

    @Test
    void plaintextRequestOnTheTlsPortIsRefusedInPlainText() throws Exception {
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String answer = readToEnd(s.getInputStream());
            assertThat(answer).startsWith("HTTP/1.1 400 ");
            assertThat(answer).contains("\"code\":\"tls_required\"").contains("connection: close");
        }
        // and the port still serves TLS afterwards
        assertThat(send(h2, HttpRequest.newBuilder(https("/healthz")).build()).statusCode()).isEqualTo(200);
    }

    private static String readToEnd(InputStream in) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        in.transferTo(all); // the server closes after its answer
        return all.toString(StandardCharsets.US_ASCII).toLowerCase().replace("http/1.1 400", "HTTP/1.1 400");
    }

    @Test
    void expiredCertificateIsRefusedAtStart() throws Exception {
        Instant now = Instant.now();
        DevCertificates expired = DevCertificates.create(now.minus(Duration.ofDays(30)), now.minus(Duration.ofDays(1)));
        var dir = Files.createTempDirectory(tls.dir(), "expired");
        expired.write(dir);
        assertThatThrownBy(() -> SwitchboardServer.start(config(c -> c.withProtocols(
                c.protocols().withTls(dir.resolve("cert.pem"), dir.resolve("key.pem"))))))
                .hasMessageContaining("cert.pem expired on");
    }

    @Test
    void keyOfAnotherCertificateIsRefusedAtStart() throws Exception {
        var other = Files.createTempDirectory(tls.dir(), "other");
        DevCertificates.create().write(other);
        assertThatThrownBy(() -> SwitchboardServer.start(config(c -> c.withProtocols(
                c.protocols().withTls(tls.cert(), other.resolve("key.pem"))))))
                .hasMessageContaining("does not belong to the certificate");
    }

    @Test
    void unreadableCertificateIsRefusedAtStart() throws Exception {
        var garbage = Files.writeString(tls.dir().resolve("garbage.pem"), "not a certificate");
        assertThatThrownBy(() -> SwitchboardServer.start(config(c -> c.withProtocols(
                c.protocols().withTls(garbage, tls.key())))))
                .hasMessageContaining("garbage.pem holds no");
        assertThatThrownBy(() -> SwitchboardServer.start(config(c -> c.withProtocols(
                c.protocols().withTls(tls.dir().resolve("missing.pem"), tls.key())))))
                .hasMessageContaining("missing.pem does not exist");
    }

    private static ServerConfig config(java.util.function.UnaryOperator<ServerConfig> customize) throws IOException {
        return customize.apply(ServerConfig.forTests(Files.createTempDirectory(tls.dir(), "data")));
    }

    /** The negotiated protocol of a raw TLS socket, to see what ALPN offers. */
    @Test
    void alpnOffersH2AndHttp11() throws Exception {
        for (String wanted : List.of("h2", "http/1.1")) {
            try (SSLSocket s = (SSLSocket) tls.trustingCa().getSocketFactory().createSocket("localhost", server.port())) {
                var params = s.getSSLParameters();
                params.setApplicationProtocols(new String[] {wanted});
                s.setSSLParameters(params);
                s.startHandshake();
                assertThat(s.getApplicationProtocol()).isEqualTo(wanted);
            }
        }
    }
}
