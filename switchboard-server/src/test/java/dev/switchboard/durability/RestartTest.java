package dev.switchboard.durability;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testing.ServerProcess;
import dev.switchboard.testing.Slow;
import dev.switchboard.testing.TestServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What was acknowledged survives a restart: a clean one through {@link TestServer#restart()}, and {@code kill -9} of
 * the server running as a separate OS process, under every fsync policy that claims it (FsyncPolicy's Javadoc).
 */
@Slow
@Timeout(240)
class RestartTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final List<Process> children = new CopyOnWriteArrayList<>();
    private final Map<Process, String> baseUrls = new ConcurrentHashMap<>();
    private final ExecutorService pool = Executors.newCachedThreadPool();
    private TestServer server;

    @AfterEach
    void cleanUp() throws InterruptedException {
        pool.shutdownNow();
        for (Process p : children) {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
        if (server != null) {
            server.close();
        }
        http.close();
        assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
    }

    // ---- (a) clean restart ----

    @Test
    void aCleanRestartKeepsMessagesOffsetsRetentionAndIdempotencyKeys() throws Exception {
        server = TestServer.start();
        String base = server.url();
        List<JsonNode> published = new ArrayList<>();
        for (int i = 1; i <= 10; i++) {
            published.add(assertCreated(publish(base, "durable.a", "text/plain", "m" + i, null)));
        }
        published.add(assertCreated(publish(base, "durable.a", "application/json", "{\"n\":11}", null)));
        JsonNode keyed = assertCreated(publish(base, "durable.a", "text/plain", "keyed", "key-12"));
        assertThat(keyed.get("offset").asLong()).isEqualTo(12);

        assertThat(put(base, "durable.r", "{\"maxMessages\":3,\"maxAge\":\"7d\",\"maxBytes\":1000}").statusCode())
                .isEqualTo(200);
        for (int i = 1; i <= 5; i++) {
            assertCreated(publish(base, "durable.r", "text/plain", "r" + i, null));
        }
        awaitFirstOffset(base, "durable.r", 3);
        assertThat(put(base, "durable.empty", "{\"maxMessages\":7}").statusCode()).isEqualTo(200);
        assertCreated(publish(base, "durable.gone", "text/plain", "x", null));
        assertThat(send(HttpRequest.newBuilder(URI.create(base + "/v1/topics/durable.gone")).DELETE().build())
                .statusCode()).isEqualTo(204);

        server.restart();
        assertThat(server.url()).isEqualTo(base);

        // Messages: offsets, payloads, types and times as acknowledged.
        List<JsonNode> stored = readAll(base, "durable.a");
        assertThat(stored).extracting(m -> m.get("offset").asLong())
                .containsExactlyElementsOf(LongStream.rangeClosed(1, 12).boxed().toList());
        for (int i = 0; i < 10; i++) {
            assertThat(stored.get(i).get("data").asText()).isEqualTo("m" + (i + 1));
            assertThat(stored.get(i).get("type").asText()).isEqualTo("text/plain");
            assertThat(stored.get(i).get("time").asText()).isEqualTo(published.get(i).get("time").asText());
        }
        assertThat(stored.get(10).get("data")).isEqualTo(JSON.readTree("{\"n\":11}"));
        assertThat(stored.get(11).get("data").asText()).isEqualTo("keyed");

        // Idempotency: the retried publish answers the first offset and appends nothing.
        HttpResponse<String> retried = publish(base, "durable.a", "text/plain", "keyed", "key-12");
        assertThat(assertCreated(retried).get("offset").asLong()).isEqualTo(12);
        assertThat(retried.headers().firstValue("Idempotent-Replayed")).contains("true");
        assertThat(describe(base, "durable.a").get("lastOffset").asLong()).isEqualTo(12);

        // Offsets continue.
        assertThat(assertCreated(publish(base, "durable.a", "text/plain", "m13", null)).get("offset").asLong())
                .isEqualTo(13);

        // Retention: kept, still applied, and the trimmed offsets stay trimmed.
        JsonNode r = describe(base, "durable.r");
        assertThat(r.get("retention")).isEqualTo(JSON.readTree("{\"maxMessages\":3,\"maxAge\":\"7d\",\"maxBytes\":1000}"));
        assertThat(r.get("firstOffset").asLong()).isEqualTo(3);
        assertThat(r.get("lastOffset").asLong()).isEqualTo(5);
        JsonNode gap = poll(base, "durable.r", 1);
        assertThat(gap.get("gap").asBoolean()).isTrue();
        assertThat(gap.get("messages")).extracting(m -> m.get("data").asText()).containsExactly("r3", "r4", "r5");
        assertThat(assertCreated(publish(base, "durable.r", "text/plain", "r6", null)).get("offset").asLong())
                .isEqualTo(6);
        awaitFirstOffset(base, "durable.r", 4);

        // A topic that only had retention set survives, and starts at 1; a deleted one stays deleted.
        JsonNode empty = describe(base, "durable.empty");
        assertThat(empty.get("retention").get("maxMessages").asLong()).isEqualTo(7);
        assertThat(empty.get("messages").asLong()).isZero();
        assertThat(assertCreated(publish(base, "durable.empty", "text/plain", "e", null)).get("offset").asLong())
                .isEqualTo(1);
        assertThat(get(base, "/v1/topics/durable.gone").statusCode()).isEqualTo(404);
        assertThat(assertCreated(publish(base, "durable.gone", "text/plain", "y", null)).get("offset").asLong())
                .isEqualTo(1);

        // And all of it once more, to show the second life wrote a log the third can read.
        server.restart();
        assertThat(readAll(base, "durable.a")).hasSize(13);
        assertThat(readAll(base, "durable.gone")).extracting(m -> m.get("data").asText()).containsExactly("y");
        assertThat(describe(base, "durable.r").get("firstOffset").asLong()).isEqualTo(4);
    }

    // ---- (b) kill -9 ----

    @ParameterizedTest(name = "fsync={0}")
    @ValueSource(strings = {"always", "batch", "never"})
    void everyAcknowledgedPublishSurvivesKill9(String fsync) throws Exception {
        Path dataDir = tmp.resolve("data");
        Process first = startServer(dataDir, fsync);
        String base = baseOf(first);

        // Several publishers, each with its own stream of payloads; half of them send an Idempotency-Key.
        int publishers = 8;
        Map<String, Long> acked = new ConcurrentHashMap<>();
        Set<String> attempted = ConcurrentHashMap.newKeySet();
        List<String> unexpected = new CopyOnWriteArrayList<>();
        AtomicInteger inFlight = new AtomicInteger();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        List<Future<Throwable>> loops = new ArrayList<>();
        for (int p = 0; p < publishers; p++) {
            int publisher = p;
            loops.add(pool.submit(() -> {
                for (int i = 0; System.nanoTime() < deadline; i++) {
                    String payload = "p" + publisher + "-" + i;
                    String key = publisher % 2 == 0 ? payload : null;
                    attempted.add(payload);
                    inFlight.incrementAndGet();
                    try {
                        HttpResponse<String> r = publish(base, "load", "text/plain", payload, key);
                        if (r.statusCode() != 201) {
                            unexpected.add(r.statusCode() + " " + r.body());
                            return null;
                        }
                        acked.put(payload, JSON.readTree(r.body()).get("offset").asLong());
                    } catch (IOException e) {
                        return e; // the server died under this request or before it
                    } finally {
                        inFlight.decrementAndGet();
                    }
                }
                return null;
            }));
        }
        Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> acked.size() >= 1500 || !unexpected.isEmpty());
        assertThat(unexpected).isEmpty();
        int inFlightAtKill = inFlight.get();
        first.destroyForcibly(); // SIGKILL
        assertThat(first.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(first.exitValue()).as("killed by SIGKILL").isEqualTo(137);

        for (Future<Throwable> loop : loops) {
            assertThat(loop.get(60, TimeUnit.SECONDS)).as("every publisher was still publishing when the server died")
                    .isInstanceOf(IOException.class);
        }
        assertThat(unexpected).isEmpty();
        assertThat(inFlightAtKill).as("publishes in flight at the kill").isPositive();
        Map<String, Long> ackedBeforeRestart = Map.copyOf(acked);

        Process second = startServer(dataDir, fsync);
        String again = baseOf(second);

        // The log: offsets 1..last with no holes; every acknowledged message at its offset with its payload.
        List<JsonNode> stored = readAll(again, "load");
        long last = describe(again, "load").get("lastOffset").asLong();
        assertThat(stored).extracting(m -> m.get("offset").asLong())
                .containsExactlyElementsOf(LongStream.rangeClosed(1, last).boxed().toList());
        Map<Long, String> byOffset = new TreeMap<>();
        Set<String> payloads = new HashSet<>();
        for (JsonNode m : stored) {
            String payload = m.get("data").asText();
            byOffset.put(m.get("offset").asLong(), payload);
            assertThat(payloads.add(payload)).as("payload %s stored once", payload).isTrue();
        }
        assertThat(attempted).as("nothing stored that was not sent").containsAll(payloads);
        long maxAcked = ackedBeforeRestart.values().stream().mapToLong(Long::longValue).max().orElseThrow();
        assertThat(last).isGreaterThanOrEqualTo(maxAcked);
        ackedBeforeRestart.forEach((payload, offset) ->
                assertThat(byOffset.get(offset)).as("acknowledged offset %d", offset).isEqualTo(payload));

        // Acknowledged Idempotency-Keys survived too: a retry answers the first offset and appends nothing.
        int retried = 0;
        for (Map.Entry<String, Long> e : ackedBeforeRestart.entrySet()) {
            if (e.getKey().startsWith("p0-") || e.getKey().startsWith("p2-")) {
                HttpResponse<String> r = publish(again, "load", "text/plain", e.getKey(), e.getKey());
                assertThat(assertCreated(r).get("offset").asLong()).as("retry of %s", e.getKey())
                        .isEqualTo(e.getValue());
                assertThat(r.headers().firstValue("Idempotent-Replayed")).contains("true");
                retried++;
            }
        }
        assertThat(retried).isPositive();
        assertThat(describe(again, "load").get("lastOffset").asLong()).isEqualTo(last);

        // New publishes continue at last + 1.
        assertThat(assertCreated(publish(again, "load", "text/plain", "after", null)).get("offset").asLong())
                .isEqualTo(last + 1);
        assertThat(assertCreated(publish(again, "load", "text/plain", "after-2", null)).get("offset").asLong())
                .isEqualTo(last + 2);
        System.err.printf("kill -9 under fsync=%s: %d acknowledged, %d in flight at the kill, %d stored%n",
                fsync, ackedBeforeRestart.size(), inFlightAtKill, last);
    }

    // ---- the server as a separate OS process ----

    private Process startServer(Path dataDir, String fsync) throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        String java = ProcessHandle.current().info().command().orElseThrow();
        Path output = tmp.resolve("server-" + children.size() + ".log");
        List<String> command = new ArrayList<>(List.of(java, "-Xmx512m", "--enable-native-access=ALL-UNNAMED"));
        command.addAll(List.of(ServerProcess.command(port, dataDir, fsync)));
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectErrorStream(true).redirectOutput(output.toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("SWITCHBOARD_"));
        Process p = pb.start();
        children.add(p);
        String base = "http://127.0.0.1:" + port;
        baseUrls.put(p, base);
        Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> {
            if (!p.isAlive()) {
                throw new AssertionError("server exited with " + p.exitValue() + ":\n" + Files.readString(output));
            }
            try {
                return get(base, "/healthz").statusCode() == 200;
            } catch (IOException e) {
                return false;
            }
        });
        return p;
    }

    private String baseOf(Process p) {
        return baseUrls.get(p);
    }

    // ---- HTTP helpers ----

    private HttpResponse<String> send(HttpRequest request) throws IOException, InterruptedException {
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String base, String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10)).GET().build());
    }

    private HttpResponse<String> publish(String base, String topic, String type, String body, String key)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + "/v1/topics/" + topic + "/messages"))
                .timeout(Duration.ofSeconds(10)).header("Content-Type", type)
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (key != null) {
            b.header("Idempotency-Key", key);
        }
        return send(b.build());
    }

    private HttpResponse<String> put(String base, String topic, String json) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(base + "/v1/topics/" + topic)).timeout(Duration.ofSeconds(10))
                .PUT(HttpRequest.BodyPublishers.ofString(json)).build());
    }

    private static JsonNode assertCreated(HttpResponse<String> r) throws IOException {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return JSON.readTree(r.body());
    }

    private JsonNode describe(String base, String topic) throws IOException, InterruptedException {
        HttpResponse<String> r = get(base, "/v1/topics/" + topic);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    private JsonNode poll(String base, String topic, long from) throws IOException, InterruptedException {
        HttpResponse<String> r = get(base, "/v1/topics/" + topic + "/messages?from=" + from + "&limit=1000");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    /** Every retained message of a topic, following {@code next}. */
    private List<JsonNode> readAll(String base, String topic) throws IOException, InterruptedException {
        List<JsonNode> all = new ArrayList<>();
        long from = 1;
        while (true) {
            JsonNode page = poll(base, topic, from);
            if (page.get("messages").isEmpty()) {
                return all;
            }
            page.get("messages").forEach(all::add);
            from = page.get("next").asLong();
        }
    }

    private void awaitFirstOffset(String base, String topic, long first) {
        Awaitility.await().atMost(Duration.ofSeconds(10))
                .until(() -> describe(base, topic).get("firstOffset").asLong() == first);
    }
}
