package dev.switchboard.h2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.testing.Curl;
import dev.switchboard.testing.Slow;
import dev.switchboard.testing.TestServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A fresh connection whose first request upgrades to h2c and is answered large and late (after its handler returned:
 * {@code /metrics} built on a virtual thread, a held poll, a proxied answer in sidecar mode), then more requests on
 * the same connection; real clients (the JDK's, which offers h2c on its first clear-text request, and curl
 * {@code --http2}) through a relay that records the server's bytes, so a failure says whose bytes were wrong.
 */
@Slow
class H2cLargeAnswerTest {
    private static final int GENERATED = 300_000;
    private static PlainAndSidecar servers;

    @BeforeAll
    static void start() {
        servers = PlainAndSidecar.start();
    }

    @AfterAll
    static void stop() {
        servers.close();
    }

    private static HttpRequest get(RecordingProxy proxy, String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port() + path))
                .timeout(Duration.ofSeconds(20)).build();
    }

    /**
     * Sixteen clients, four at a time, each first asking for a proxied answer of 300 kB (far past the write buffer's
     * high-water mark) and then {@code /metrics}. Every answer arrives whole. With h2c every connection's bytes are a
     * 101 followed by well-formed frames whose stream 1 carries the whole answer. The JDK client lost its place in
     * those bytes after the upgrade now and then ({@code ProtocolException: Frame type(…) length(…)}, BENCHMARKS.md,
     * "Sidecar proxy: per-request cost") while they were right: it drops what comes past 16 KiB in the read that
     * brings the 101, and the answer now waits for its preface ({@code H2cPrefaceWait}), so none may fail.
     */
    @ParameterizedTest
    @EnumSource(value = HttpClient.Version.class)
    void aLargeProxiedAnswerReachesEveryConcurrentClientWhole(HttpClient.Version version) throws Exception {
        try (RecordingProxy proxy = RecordingProxy.to(servers.sidecar.port());
             ExecutorService pool = Executors.newFixedThreadPool(4)) {
            List<Future<Void>> clients = new ArrayList<>();
            for (int c = 0; c < 16; c++) {
                int n = c;
                clients.add(pool.submit(() -> {
                    try (HttpClient client = HttpClient.newBuilder().version(version).build()) {
                        HttpResponse<byte[]> big = client.sendAsync(get(proxy, "/generate?n=" + GENERATED + "&id=h2c"
                                + version + n), HttpResponse.BodyHandlers.ofByteArray()).get(30, TimeUnit.SECONDS);
                        assertThat(big.statusCode()).isEqualTo(200);
                        assertThat(big.body()).hasSize(GENERATED);
                        assertThat(big.version()).isEqualTo(version);
                        HttpResponse<String> metrics = client.sendAsync(get(proxy, "/metrics"),
                                HttpResponse.BodyHandlers.ofString()).get(30, TimeUnit.SECONDS);
                        assertThat(metrics.statusCode()).isEqualTo(200);
                        assertThat(metrics.body()).contains("# TYPE");
                        return null;
                    }
                }));
            }
            for (Future<Void> c : clients) {
                c.get(120, TimeUnit.SECONDS);
            }
            if (version == HttpClient.Version.HTTP_2) {
                List<byte[]> recorded = proxy.fromServer();
                assertThat(recorded).hasSize(clients.size());
                for (byte[] bytes : recorded) {
                    H2cTranscript t = H2cTranscript.parse(bytes);
                    assertThat(t.upgradeHead).containsIgnoringCase("upgrade: h2c");
                    assertThat(t.streams.get(1).status()).isEqualTo("200");
                    assertThat(t.streams.get(1).body.size()).isEqualTo(GENERATED);
                    assertThat(t.streams.get(1).ended).isTrue();
                }
            }
        }
    }

    /** {@code /metrics} (answered from a virtual thread) upgrades, then more requests reuse the connection. */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void jdkClientUpgradesOnAnAsyncMetricsAnswerAndGoesOn(boolean inSidecar) throws Exception {
        try (RecordingProxy proxy = RecordingProxy.to(servers.server(inSidecar).port());
             HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build()) {
            List<String> bodies = new ArrayList<>();
            for (String path : List.of("/metrics", "/healthz", "/metrics")) {
                HttpResponse<String> r = client.send(get(proxy, path), HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
                bodies.add(r.body());
            }
            assertThat(proxy.fromServer()).as("one connection").hasSize(1);
            H2cTranscript t = H2cTranscript.parse(proxy.fromServer().getFirst());
            assertThat(t.streams.keySet()).containsExactly(1, 3, 5);
            assertThat(t.streams.get(1).text()).isEqualTo(bodies.getFirst()).contains("# TYPE");
            assertThat(t.streams.get(5).text()).isEqualTo(bodies.get(2));
            assertThat(t.trailing).isZero();
        }
    }

    /**
     * A held long poll upgrades and is answered by a publish of 200 kB after the upgrade finished; the next requests
     * on the connection follow.
     */
    @Test
    void aHeldPollThatUpgradesIsAnsweredLargeOnStreamOne() throws Exception {
        String topic = "h2c-held-" + System.nanoTime();
        String big = "y".repeat(200_000);
        try (RecordingProxy proxy = RecordingProxy.to(servers.plain.port());
             HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build()) {
            CompletableFuture<HttpResponse<String>> held = client.sendAsync(
                    get(proxy, "/v1/topics/" + topic + "/messages?from=1&wait=20s"), HttpResponse.BodyHandlers.ofString());
            await().atMost(Duration.ofSeconds(10)).until(() -> proxy.fromServer().size() == 1
                    && new String(proxy.fromServer().getFirst(), 0, Math.min(12, proxy.fromServer().getFirst().length))
                    .equals("HTTP/1.1 101"));
            assertThat(servers.plain.post("/v1/topics/" + topic + "/messages", "text/plain", big).statusCode())
                    .isEqualTo(201);
            HttpResponse<String> answered = held.get(20, TimeUnit.SECONDS);
            assertThat(answered.statusCode()).isEqualTo(200);
            assertThat(answered.version()).isEqualTo(HttpClient.Version.HTTP_2);
            assertThat(answered.body()).contains(big);
            HttpResponse<String> next = client.send(get(proxy, "/v1/topics/" + topic + "/messages?from=1"),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(next.body()).contains(big);
            H2cTranscript t = H2cTranscript.parse(proxy.fromServer().getFirst());
            assertThat(t.streams.get(1).text()).isEqualTo(answered.body());
            assertThat(t.streams.get(3).text()).isEqualTo(next.body());
        }
    }

    /** curl {@code --http2} upgrades on its first URL and sends the others on the same connection. */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void curlUpgradesOnALargeAnswerAndReusesTheConnection(boolean inSidecar) throws Exception {
        TestServer server = servers.server(inSidecar);
        String topic = "h2c-curl-" + inSidecar + "-" + System.nanoTime();
        for (int i = 0; i < 100; i++) {
            server.post("/v1/topics/" + topic + "/messages", "text/plain", i + "z".repeat(2000));
        }
        try (RecordingProxy proxy = RecordingProxy.to(server.port())) {
            String base = "http://127.0.0.1:" + proxy.port();
            List<String> out = Curl.run("--http2", base + "/metrics", base + "/v1/topics/" + topic
                    + "/messages?from=1&limit=100", base + "/healthz");
            assertThat(out.stream().filter(l -> l.startsWith("2 200")).count()).as(String.join("\n", out)).isEqualTo(3);
            assertThat(proxy.fromServer()).as("one connection").hasSize(1);
            H2cTranscript t = H2cTranscript.parse(proxy.fromServer().getFirst());
            assertThat(t.streams.keySet()).containsExactly(1, 3, 5);
            assertThat(t.streams.get(1).text()).contains("# TYPE");
            assertThat(t.streams.get(3).body.size()).isGreaterThan(200_000);
            assertThat(t.streams.values()).allMatch(s -> s.ended && "200".equals(s.status()));
        }
    }
}
