package dev.switchboard.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.config.IoMode;
import dev.switchboard.config.SidecarConfig;
import dev.switchboard.config.UpstreamRoute;
import dev.switchboard.testing.Slow;
import dev.switchboard.testing.TestServer;
import dev.switchboard.testing.TestTls;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Large request bodies from HTTP/2 streams (h2c, and h2 over TLS by ALPN) to a plain and to a TLS upstream, on each
 * event-loop engine. The upstream ({@code /drip}) reads slowly through a small receive buffer, so the proxy's writes
 * to it stop and resume many times, and each time the stream's reading is paused and resumed from the upstream
 * connection's writability: the paths where a stream's WINDOW_UPDATE was left unflushed and the body stalled for
 * good after one window (Reading). Each case on a fresh server, so that its first body also arrives while the pool's
 * upstream connection is still connecting (and, to a TLS upstream, in its handshake). Every byte must arrive,
 * checksum equal, well within the request's timeout.
 */
@Slow
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SidecarHttp2BodyTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int BODY = 8 * 1024 * 1024;
    private static final int BODIES = 2;
    private static TestTls tls;
    private static UpstreamApp plainApp;
    private static UpstreamApp tlsApp;
    private static byte[] body;
    private static String sha256;

    @BeforeAll
    static void start() throws Exception {
        tls = TestTls.create();
        plainApp = UpstreamApp.start();
        tlsApp = UpstreamApp.startTls(tls.cert(), tls.key(), "127.0.0.1");
        body = new byte[BODY];
        new Random(16).nextBytes(body);
        sha256 = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
    }

    @AfterAll
    static void stop() {
        plainApp.close();
        tlsApp.close();
        tls.close();
    }

    static List<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        for (IoMode io : List.of(IoMode.IO_URING, IoMode.EPOLL, IoMode.NIO)) {
            for (boolean tlsClient : List.of(false, true)) {
                for (boolean tlsUpstream : List.of(false, true)) {
                    cases.add(Arguments.of(io, tlsClient ? "h2" : "h2c", tlsUpstream ? "https" : "http"));
                }
            }
        }
        return cases;
    }

    @ParameterizedTest(name = "{0}: {1} to an {2} upstream")
    @MethodSource("cases")
    void everyByteOfLargeBodiesFromHttp2StreamsReachesASlowUpstream(IoMode io, String client, String upstream)
            throws Exception {
        boolean tlsClient = client.equals("h2");
        UpstreamApp app = upstream.equals("https") ? tlsApp : plainApp;
        UnaryOperator<dev.switchboard.config.ServerConfig> serving = tlsClient ? tls.serving() : c -> c;
        HttpClient http = tlsClient ? tls.http2Client()
                : HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
        try (http; TestServer server = TestServer.startSidecar(SidecarConfig.NONE.withRoutes(List.of(
                UpstreamRoute.of("/", app.url()))).withUpstreamCa(tls.ca()), c -> serving.apply(c).withIo(io))) {
            String base = (tlsClient ? "https://localhost:" : "http://127.0.0.1:") + server.port();
            // h2c comes by upgrading a first, bodiless request (Switchboard's own: no upstream connection yet)
            HttpResponse<String> first = http.send(HttpRequest.newBuilder(URI.create(base + "/healthz")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(first.version()).isEqualTo(HttpClient.Version.HTTP_2);
            for (int i = 0; i < BODIES; i++) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/drip?n=" + i))
                        .timeout(Duration.ofSeconds(30)).PUT(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
                assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                JsonNode drip = JSON.readTree(r.body());
                assertThat(drip.path("length").asInt()).isEqualTo(BODY);
                assertThat(drip.path("sha256").asText()).isEqualTo(sha256);
            }
        }
    }
}
