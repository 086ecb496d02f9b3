package dev.switchboard.h2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.sidecar.UpstreamApp;
import dev.switchboard.testing.Slow;
import dev.switchboard.testing.TestServer;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A WebSocket by extended CONNECT (RFC 8441) on a proxied path, as a browser with an HTTP/2 connection to the server
 * opens one, passes through to the upstream's HTTP/1.1 WebSocket (upstream.py): the stream is answered 200 once the
 * upstream answered 101, its DATA frames carry the frames both ways, and ending the stream closes the upstream's
 * socket.
 */
@Slow
class SidecarWebSocketOverHttp2Test {
    private static UpstreamApp app;
    private static TestServer server;

    @BeforeAll
    static void start() {
        app = UpstreamApp.start();
        server = app.inFront();
    }

    @AfterAll
    static void stop() {
        server.close();
        app.close();
    }

    @Test
    void aWebSocketOnAnHttp2StreamPassesThroughToTheUpstream() throws Exception {
        try (RawH2Client client = new RawH2Client(server.port(), 65535)) {
            await().atMost(Duration.ofSeconds(10)).until(() -> client.serverSettings != null);
            RawH2Client.Received ws = client.webSocket("/ws/echo?via=h2");
            await("the 200 to the CONNECT").atMost(Duration.ofSeconds(10)).until(() -> "200".equals(ws.status));
            await("the upstream's first message").atMost(Duration.ofSeconds(10))
                    .until(() -> ws.text.toString().contains("\"path\": \"/ws/echo?via=h2\""));
            assertThat(ws.text.toString()).contains("\"upgrade\": \"websocket\"");

            client.send(ws, Http2ClearTextTest.maskedText("echoed over a stream"));
            await().atMost(Duration.ofSeconds(10)).until(() -> ws.text.toString().contains("echoed over a stream"));
            assertThat(openAtUpstream()).isEqualTo(1);
        }
        // the client's connection, and with it the stream, is gone: so is the upstream's socket
        await().atMost(Duration.ofSeconds(10)).until(() -> openAtUpstream() == 0);
    }

    private static int openAtUpstream() throws Exception {
        String body = HttpClient.newHttpClient().send(HttpRequest.newBuilder(app.uri("/ws/open")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        return Integer.parseInt(body.replaceAll("\\D", ""));
    }
}
