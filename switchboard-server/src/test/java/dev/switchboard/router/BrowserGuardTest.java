package dev.switchboard.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.testing.RawHttp;
import dev.switchboard.testing.TestServer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The server's own defence against web pages, over raw sockets (a browser would not let a test forge {@code Host}):
 * with the default settings a foreign page may change nothing, not even with a simple {@code POST} or a WebSocket,
 * and a request naming a host the server does not answer to (DNS rebinding) is refused.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class BrowserGuardTest {
    private static final String ALLOWED_ORIGIN = "https://app.example";
    private static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(c -> c.withCorsOrigins(List.of(ALLOWED_ORIGIN))
                .withAllowedHosts(List.of("switchboard.internal")));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static RawHttp.Response send(String request) {
        try (RawHttp http = new RawHttp(server.port(), 10_000)) {
            return http.write(request).read();
        }
    }

    private static RawHttp.Response publish(String topic, String host, String origin) {
        return send("POST /v1/topics/" + topic + "/messages HTTP/1.1\r\nHost: " + host + "\r\n"
                + (origin == null ? "" : "Origin: " + origin + "\r\n")
                + "Content-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi");
    }

    private static int stored(String topic) {
        return server.get("/v1/topics/" + topic).statusCode();
    }

    @Test
    void aForeignPageCannotPublishEvenWithASimpleRequest() {
        RawHttp.Response r = publish("guard.a", "127.0.0.1", "http://evil.example");
        assertThat(r.status()).isEqualTo(403);
        assertThat(r.body()).contains("\"code\":\"origin_not_allowed\"");
        r = publish("guard.a", "localhost:8080", "null");
        assertThat(r.status()).as("a sandboxed page's opaque origin").isEqualTo(403);
        assertThat(stored("guard.a")).as("nothing stored").isEqualTo(404);
    }

    @Test
    void theServersOwnPagesAndListedOriginsMayPublish() {
        int port = server.port();
        assertThat(publish("guard.b", "127.0.0.1:" + port, "http://127.0.0.1:" + port).status()).isEqualTo(201);
        assertThat(publish("guard.b", "localhost", ALLOWED_ORIGIN).status()).isEqualTo(201);
        assertThat(publish("guard.b", "localhost", null).status()).as("not a browser").isEqualTo(201);
    }

    @Test
    void aForeignPageMayReadOnlyWhatCorsThenHidesFromIt() {
        RawHttp.Response r = send("GET /v1/topics HTTP/1.1\r\nHost: localhost\r\nOrigin: http://evil.example\r\n"
                + "Connection: close\r\n\r\n");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("Access-Control-Allow-Origin")).isEmpty();
    }

    @Test
    void aHeldLongPollOfAListedOriginIsAnsweredWithItsCorsHeadersAndTheConnectionServesOn() {
        // A held poll lets its request head go while it waits; the CORS answer must still name the request's Origin.
        assertThat(publish("guard.poll", "localhost", null).status()).isEqualTo(201);
        try (RawHttp http = new RawHttp(server.port(), 20_000)) {
            http.write("GET /v1/topics/guard.poll/messages?from=next&wait=15s HTTP/1.1\r\nHost: localhost\r\n"
                    + "Origin: " + ALLOWED_ORIGIN + "\r\nUser-Agent: a-browser\r\n\r\n");
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20)).until(() ->
                    server.get("/v1/topics/guard.poll").body().contains("\"longpoll\":1"));
            assertThat(publish("guard.poll", "localhost", null).status()).isEqualTo(201);
            RawHttp.Response woken = http.read();
            assertThat(woken.status()).isEqualTo(200);
            assertThat(woken.body()).contains("\"offset\":2").doesNotContain("\"offset\":1");
            assertThat(woken.header("Access-Control-Allow-Origin")).isEqualTo(ALLOWED_ORIGIN);
            assertThat(woken.header("Access-Control-Expose-Headers")).contains("Location");

            RawHttp.Response next = http.write("GET /v1/topics/guard.poll/messages?from=1 HTTP/1.1\r\n"
                    + "Host: localhost\r\n\r\n").read();
            assertThat(next.status()).isEqualTo(200);
            assertThat(next.body()).contains("\"offset\":1", "\"offset\":2");
            assertThat(next.header("Access-Control-Allow-Origin")).as("no Origin this time").isEmpty();
        }
    }

    @Test
    void aForeignPageCannotOpenAWebSocket() {
        RawHttp.Response r = send("GET /v1/ws HTTP/1.1\r\nHost: localhost\r\nOrigin: http://evil.example\r\n"
                + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                + "Sec-WebSocket-Version: 13\r\n\r\n");
        assertThat(r.status()).isEqualTo(403);
        assertThat(r.body()).contains("\"code\":\"origin_not_allowed\"");
        r = send("GET /v1/ws HTTP/1.1\r\nHost: localhost\r\nOrigin: " + ALLOWED_ORIGIN + "\r\n"
                + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                + "Sec-WebSocket-Version: 13\r\n\r\n");
        assertThat(r.status()).isEqualTo(101);
    }

    @Test
    void onlyTheLoopbackNamesAndTheAllowedHostsAreAnswered() {
        RawHttp.Response r = publish("guard.c", "rebound.evil.example", null);
        assertThat(r.status()).isEqualTo(403);
        assertThat(r.body()).contains("\"code\":\"host_not_allowed\"");
        assertThat(publish("guard.c", "127.0.0.2", null).status()).isEqualTo(403);
        assertThat(stored("guard.c")).as("nothing stored").isEqualTo(404);
        for (String host : List.of("localhost", "LOCALHOST:1", "localhost.", "127.0.0.1:65535", "[::1]", "[::1]:8080",
                "switchboard.internal:443")) {
            assertThat(publish("guard.d", host, null).status()).as(host).isEqualTo(201);
        }
        assertThat(send("GET /healthz HTTP/1.1\r\nHost: 10.0.0.7:8080\r\nConnection: close\r\n\r\n").status())
                .as("probes name the node by address").isEqualTo(200);
    }

    /** The guard remembers its last verdict: repeating or alternating hosts must not carry one host's over. */
    @Test
    void aRememberedHostVerdictIsOnlyReusedForTheSameHost() {
        List<String> hosts = List.of("rebound.evil.example", "rebound.evil.example", "localhost:1", "localhost:1",
                "rebound.evil.example", "localhost:1", "LOCALHOST:1", "evil.localhost:1", "localhost:1");
        List<Integer> expected = List.of(403, 403, 201, 201, 403, 201, 201, 403, 201);
        for (int i = 0; i < hosts.size(); i++) {
            assertThat(publish("guard.e", hosts.get(i), null).status()).as(i + ": " + hosts.get(i))
                    .isEqualTo(expected.get(i));
        }
    }

    @Test
    void hostNamesLoseTheirPortAndCase() {
        assertThat(BrowserGuard.hostName("Example.COM:8080")).isEqualTo("example.com");
        assertThat(BrowserGuard.hostName("[::1]:80")).isEqualTo("[::1]");
        assertThat(BrowserGuard.hostName("[::1]")).isEqualTo("[::1]");
        assertThat(BrowserGuard.hostName("localhost.")).isEqualTo("localhost");
    }
}
