package dev.switchboard.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.config.SidecarConfig;
import dev.switchboard.config.UpstreamRoute;
import dev.switchboard.testing.Slow;
import dev.switchboard.testing.TestServer;
import dev.switchboard.testing.Tokens;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Sidecar mode under {@code --auth jwt}: Switchboard's own API still needs a token, while proxied requests are the
 * application's to authorise, and a held stream is the upstream's decision (docs/sidecar.md, "Authentication").
 */
@Slow
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SidecarAuthTest {
    private static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static UpstreamApp app;
    private static Tokens tokens;
    private static TestServer server;

    @BeforeAll
    static void start() {
        app = UpstreamApp.start();
        tokens = Tokens.hs256InTempDir();
        server = TestServer.startSidecar(SidecarConfig.NONE.withRoutes(List.of(UpstreamRoute.of("/", app.url()))),
                c -> c.withAuth(tokens.config()));
    }

    @AfterAll
    static void stop() {
        server.close();
        app.close();
    }

    @Test
    void theApiNeedsATokenWhileTheAppAndItsHeldStreamsAreTheAppsDecision() throws Exception {
        assertThat(http.send(HttpRequest.newBuilder(server.uri("/v1/topics/auth.held/events")).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(401);
        assertThat(http.send(HttpRequest.newBuilder(server.uri("/echo")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).as("no token: the app decides").isEqualTo(200);

        HttpResponse<InputStream> stream = http.send(HttpRequest.newBuilder(
                server.uri("/hold/stream?topic=auth.held")).build(), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(stream.statusCode()).isEqualTo(200);
        AtomicReference<String> read = new AtomicReference<>("");
        Thread reader = Thread.ofVirtual().start(() -> {
            try (InputStream in = stream.body()) {
                byte[] buf = new byte[4096];
                for (int n; (n = in.read(buf)) >= 0; ) {
                    String chunk = new String(buf, 0, n, StandardCharsets.UTF_8);
                    read.updateAndGet(s -> s + chunk);
                }
            } catch (Exception e) {
                // closed by the test
            }
        });
        String publisher = tokens.sign(Tokens.claims("app", Tokens.rights(List.of(">"), List.of(), List.of(),
                List.of(), false)));
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).until(() -> {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(server.uri("/v1/topics/auth.held/messages"))
                    .header("Authorization", "Bearer " + publisher).header("Content-Type", "text/plain")
                    .POST(HttpRequest.BodyPublishers.ofString("for the held")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
            return read.get().contains("data: for the held");
        });
        assertThat(read.get()).startsWith(": welcome from python");
        reader.interrupt();
    }
}
