package dev.switchboard.browser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.testing.Chromium;
import dev.switchboard.testing.Slow;
import dev.switchboard.testing.TestServer;
import dev.switchboard.testing.TestTls;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Why HTTP/2 matters to browsers: a page that follows {@value #STREAMS} SSE streams on one origin. Over HTTPS with
 * HTTP/2 every stream shares one connection and all of them receive; over HTTPS with HTTP/1.1 ({@code --http2 off})
 * Chromium opens six connections per origin and the other streams wait for one of them, so only six progress. The
 * page counts what each of its EventSources received. Chromium trusts the development CA through an NSS database the
 * test makes with {@code certutil} (Debian's libnss3-tools) in a home directory of its own.
 */
@Slow
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class BrowserHttp2Test {
    private static final int STREAMS = 20;
    private static final int BROWSER_CONNECTIONS_PER_ORIGIN = 6;
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private static TestTls tls;
    private static Path home;
    private static Chromium chromium;
    private static HttpClient client;

    @BeforeAll
    static void trustTheDevelopmentCa() throws Exception {
        tls = TestTls.create();
        home = Files.createTempDirectory(tls.dir(), "home");
        Path nssdb = Files.createDirectories(home.resolve(".pki/nssdb"));
        run("certutil", "-N", "-d", "sql:" + nssdb, "--empty-password");
        run("certutil", "-A", "-d", "sql:" + nssdb, "-n", "switchboard-dev-ca", "-t", "C,,", "-i",
                tls.ca().toString());
        chromium = Chromium.launch(TIMEOUT, Map.of("HOME", home.toString()));
        client = tls.http2Client();
    }

    private static void run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("%s: %s", List.of(command), out).isZero();
    }

    @AfterAll
    static void stop() {
        try {
            if (chromium != null) {
                chromium.close();
            }
        } finally {
            client.close();
            tls.close();
        }
    }

    @Test
    void overHttp2AllTwentyStreamsReceive() {
        try (TestServer server = TestServer.start(tls.serving())) {
            int progressed = streamsThatProgress(server, "h2", STREAMS);
            assertThat(progressed).isEqualTo(STREAMS);
            assertThat(chromium.evaluate("performance.getEntriesByType('navigation')[0].nextHopProtocol"))
                    .isEqualTo("h2");
        }
    }

    /**
     * A page's WebSocket on a server that announces RFC 8441: Chromium opens it as a stream of the page's HTTP/2
     * connection (the x-ray shows no HTTP/1.1 connection for it), and it carries messages both ways.
     */
    @Test
    void chromiumOpensItsWebSocketOnTheHttp2Connection() {
        try (TestServer server = TestServer.start(tls.serving())) {
            chromium.open(uri(server, "/healthz").toString());
            String started = chromium.evaluate("(() => {"
                    + " window.received = [];"
                    + " const ws = new WebSocket('wss://' + location.host + '/v1/ws?subscribe=browser-ws&from=next');"
                    + " ws.onmessage = (e) => { window.received.push(e.data);"
                    + "   if (e.data.includes('\"op\":\"subscribed\"')) ws.send(JSON.stringify("
                    + "     {op: 'publish', topic: 'browser-ws', data: 'from the page', id: 'p1'})); };"
                    + " return 'started'; })()");
            assertThat(started).isEqualTo("started");
            try {
                await().atMost(TIMEOUT).pollInterval(Duration.ofMillis(100)).until(() -> chromium.evaluate(
                        "window.received.some(m => m.includes('\"op\":\"message\"') && m.includes('from the page'))"),
                        "true"::equals);
            } catch (ConditionTimeoutException e) {
                throw new AssertionError("received " + chromium.evaluate("JSON.stringify(window.received)")
                        + "\npage log:\n" + chromium.pageLog(), e);
            }
            String connections = send(server, HttpRequest.newBuilder(uri(server, "/v1/admin/connections")).build());
            assertThat(connections).as("the socket went over HTTP/2: no HTTP/1.1 connection carries it")
                    .doesNotContain("\"transport\":\"ws\",\"protocol\":\"h1\"")
                    .contains("\"protocol\":\"h2\"");
        }
    }

    @Test
    void overHttp11OnlySixProgress() {
        try (TestServer server = TestServer.start(c -> tls.serving().apply(c)
                .withProtocols(tls.serving().apply(c).protocols().withHttp2(false)))) {
            int progressed = streamsThatProgress(server, "h1", BROWSER_CONNECTIONS_PER_ORIGIN);
            assertThat(progressed).isEqualTo(BROWSER_CONNECTIONS_PER_ORIGIN);
            assertThat(chromium.evaluate("performance.getEntriesByType('navigation')[0].nextHopProtocol"))
                    .isEqualTo("http/1.1");
        }
    }

    /**
     * Opens the page on the server's origin, starts {@value #STREAMS} EventSources, waits until the server holds
     * {@code expectedOpen} of them, then publishes twice to every topic: after the second round has reached every
     * stream that got the first, any stream still waiting for a connection would have had its chance. Returns how many
     * streams received messages, as the page counted them.
     */
    private static int streamsThatProgress(TestServer server, String run, int expectedOpen) {
        chromium.open(uri(server, "/healthz").toString());
        String started = chromium.evaluate("(() => {"
                + " window.counts = new Array(" + STREAMS + ").fill(0);"
                + " for (let i = 0; i < " + STREAMS + "; i++) {"
                + "   const es = new EventSource('/v1/topics/" + run + "-' + i + '/events');"
                + "   es.onmessage = () => window.counts[i]++;"
                + " }"
                + " return 'started'; })()");
        assertThat(started).isEqualTo("started");
        await().atMost(TIMEOUT).until(() -> subscribed(server) == expectedOpen);
        for (int round = 1; round <= 2; round++) {
            for (int i = 0; i < STREAMS; i++) {
                send(server, HttpRequest.newBuilder(uri(server, "/v1/topics/" + run + "-" + i + "/messages"))
                        .POST(HttpRequest.BodyPublishers.ofString("round " + round)).build());
            }
            int atLeast = round;
            try {
                await().atMost(TIMEOUT).pollInterval(Duration.ofMillis(100)).until(() -> chromium.evaluate(
                        "window.counts.filter(c => c > 0).every(c => c >= " + atLeast + ")"
                                + " && window.counts.filter(c => c > 0).length >= " + expectedOpen), "true"::equals);
            } catch (ConditionTimeoutException e) {
                throw new AssertionError("counts " + chromium.evaluate("JSON.stringify(window.counts)")
                        + "\npage log:\n" + chromium.pageLog(), e);
            }
        }
        assertThat(subscribed(server)).isEqualTo(expectedOpen);
        return Integer.parseInt(chromium.evaluate("window.counts.filter(c => c > 0).length"));
    }

    /** SSE subscriptions the server holds, by its x-ray. */
    private static int subscribed(TestServer server) {
        String body = send(server, HttpRequest.newBuilder(uri(server, "/v1/admin/connections")).build());
        return body.split("\"topic\":\"", -1).length - 1;
    }

    private static URI uri(TestServer server, String path) {
        return URI.create("https://localhost:" + server.port() + path);
    }

    private static String send(TestServer server, HttpRequest request) {
        try {
            return client.send(request, HttpResponse.BodyHandlers.ofString()).body();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
