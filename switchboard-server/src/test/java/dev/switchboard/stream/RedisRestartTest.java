package dev.switchboard.stream;

import static dev.switchboard.stream.StreamFixtures.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.testing.RedisServer;
import dev.switchboard.testing.Slow;
import dev.switchboard.testing.TestServer;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Redis killed ({@code kill -9}) and started again while two nodes take a steady stream of publishes: while it is
 * away publishes fail at once with 503 {@code unavailable} and {@code /readyz} says so; nothing acknowledged is lost
 * (append-only file, {@code appendfsync always}); subscribers on both nodes carry on by themselves afterwards.
 */
@Slow
@Timeout(180)
class RedisRestartTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;
    private final List<AutoCloseable> open = new ArrayList<>();
    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void stopEverything() throws Exception {
        pool.shutdownNow();
        for (AutoCloseable c : open.reversed()) {
            c.close();
        }
    }

    @Test
    void publishesFailFastWhileRedisIsDownNothingAcknowledgedIsLostAndSubscribersResume() throws Exception {
        RedisServer redis = RedisServer.start(dir.resolve("redis"), "--appendfsync", "always");
        open.add(redis);
        TestServer publishing = TestServer.start(c -> c.withEngine(redis.uri()));
        open.add(publishing);
        TestServer reading = TestServer.start(c -> c.withEngine(redis.uri()));
        open.add(reading);
        String topic = "restart.stream";

        List<Long> viaSse = new CopyOnWriteArrayList<>();
        open.add(HttpClientSse.open(reading.http(), reading.uri("/v1/topics/" + topic + "/events?from=1"), e -> {
            if (e.type().equals("message")) {
                viaSse.add(Long.parseLong(e.id()));
            }
        }));
        List<Long> viaWs = new CopyOnWriteArrayList<>();
        WsClient ws = WsClient.connect(publishing, "/v1/ws", frame -> {
            if (frame.path("op").asText().equals("message")) {
                viaWs.add(frame.get("offset").asLong());
            }
        });
        open.add(ws);
        ws.send("{\"op\":\"subscribe\",\"topic\":\"" + topic + "\",\"from\":\"earliest\"}");

        Map<Long, String> acknowledged = new ConcurrentHashMap<>();
        AtomicInteger refused = new AtomicInteger();
        List<Long> refusalMillis = new CopyOnWriteArrayList<>();
        AtomicBoolean publishingOn = new AtomicBoolean(true);
        Future<?> publisher = pool.submit(() -> {
            for (int i = 0; publishingOn.get(); i++) {
                String payload = "m" + i;
                long start = System.nanoTime();
                HttpResponse<String> r = publishing.post("/v1/topics/" + topic + "/messages", "text/plain", payload);
                if (r.statusCode() == 201) {
                    assertThat(acknowledged.put(json(r.body()).get("offset").asLong(), payload)).isNull();
                } else {
                    assertThat(r.statusCode()).as("publish answered %s", r.body()).isEqualTo(503);
                    assertThat(json(r.body()).get("error").get("code").asText()).isEqualTo("unavailable");
                    refused.incrementAndGet();
                    refusalMillis.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
                }
            }
            return null;
        });

        await().atMost(WAIT).until(() -> acknowledged.size() >= 200);
        redis.kill();
        await().atMost(WAIT).alias("publishes refused while Redis is away").until(() -> refused.get() >= 20);
        assertThat(publishing.get("/readyz").statusCode()).isEqualTo(503);
        assertThat(json(reading.get("/readyz").body()).get("error").get("message").asText())
                .contains("unreachable");
        assertThat(publishing.get("/healthz").statusCode()).as("still alive").isEqualTo(200);
        // Fail fast: the client is not kept waiting for Redis (the median refusal, as the first may wait on a
        // command that was in flight when Redis died).
        assertThat(refusalMillis.stream().sorted().toList().get(refusalMillis.size() / 2)).isLessThan(1000);

        int ackedBeforeRestart = acknowledged.size();
        redis.restart();
        await().atMost(WAIT).alias("publishes succeed again").until(() -> acknowledged.size() >= ackedBeforeRestart
                + 200);
        await().atMost(WAIT).until(() -> publishing.get("/readyz").statusCode() == 200
                && reading.get("/readyz").statusCode() == 200);
        for (TestServer node : List.of(publishing, reading)) {
            assertThat(json(node.get("/readyz").body()).get("redis").get("reconnects").asLong())
                    .as("reconnects counted").isPositive();
        }
        publishingOn.set(false);
        publisher.get(WAIT.toSeconds(), TimeUnit.SECONDS);

        long last = json(reading.get("/v1/topics/" + topic).body()).get("lastOffset").asLong();
        List<JsonNode> stored = readAll(reading, topic);
        assertThat(stored).extracting(m -> m.get("offset").asLong()).as("offsets stay contiguous")
                .containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(1, last).boxed().toList());
        for (JsonNode m : stored) {
            String ackedAs = acknowledged.get(m.get("offset").asLong());
            if (ackedAs != null) {
                assertThat(m.get("data").asText()).as("offset %s", m.get("offset")).isEqualTo(ackedAs);
            }
        }
        assertThat(acknowledged.keySet()).as("every acknowledged message is stored").allMatch(o -> o <= last);

        List<Long> all = java.util.stream.LongStream.rangeClosed(1, last).boxed().toList();
        await().atMost(WAIT).alias("SSE subscriber caught up").until(() -> viaSse.size() >= all.size());
        await().atMost(WAIT).alias("WebSocket subscriber caught up").until(() -> viaWs.size() >= all.size());
        assertThat(viaSse).as("SSE: every message once, in order").containsExactlyElementsOf(all);
        assertThat(viaWs).as("WebSocket: every message once, in order").containsExactlyElementsOf(all);
    }

    private static List<JsonNode> readAll(TestServer node, String topic) {
        List<JsonNode> all = new ArrayList<>();
        long from = 1;
        while (true) {
            JsonNode body = json(node.get("/v1/topics/" + topic + "/messages?from=" + from + "&limit=1000").body());
            if (body.get("messages").isEmpty()) {
                return all;
            }
            body.get("messages").forEach(all::add);
            from = body.get("next").asLong();
        }
    }
}
