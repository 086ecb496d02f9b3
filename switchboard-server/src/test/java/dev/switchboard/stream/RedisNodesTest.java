package dev.switchboard.stream;

import static dev.switchboard.stream.StreamFixtures.json;
import static dev.switchboard.stream.StreamFixtures.publish;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.testing.RedisServer;
import dev.switchboard.testing.Slow;
import dev.switchboard.testing.TestServer;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three nodes on one Redis behave as one server: subscribers on every node, over WebSocket, SSE and long polls,
 * receive every message published on any node, in one order, with the same offsets. Real servers on loopback
 * sockets, a real redis-server, the JDK's HTTP and WebSocket clients.
 */
@Slow
@Timeout(180)
class RedisNodesTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final int NODES = 3;

    @TempDir
    static Path dir;
    private static RedisServer redis;
    private static final List<TestServer> nodes = new ArrayList<>();
    private final ExecutorService pool = Executors.newCachedThreadPool();

    @BeforeAll
    static void startRedisAndNodes() {
        redis = RedisServer.start(dir.resolve("redis"));
        for (int i = 0; i < NODES; i++) {
            nodes.add(TestServer.start(c -> c.withEngine(redis.uri())));
        }
    }

    @AfterEach
    void stopPool() {
        pool.shutdownNow();
    }

    @AfterAll
    static void stopNodesAndRedis() {
        nodes.forEach(TestServer::close);
        redis.close();
    }

    /** What one reader received: offset → payload, in arrival order. */
    private record Received(String reader, List<Long> offsets, List<String> payloads) {
        Received(String reader) {
            this(reader, new CopyOnWriteArrayList<>(), new CopyOnWriteArrayList<>());
        }

        void add(long offset, String payload) {
            offsets.add(offset);
            payloads.add(payload);
        }
    }

    @Test
    void subscribersOnEveryNodeReceiveEveryMessageOfAnyNodeInOneOrderWithTheSameOffsets() throws Exception {
        String topic = "nodes.fanout";
        int each = 100;
        List<Received> readers = new ArrayList<>();
        List<AutoCloseable> connections = new ArrayList<>();
        AtomicBoolean polling = new AtomicBoolean(true);
        List<Future<?>> pollers = new ArrayList<>();
        for (int n = 0; n < NODES; n++) {
            TestServer node = nodes.get(n);
            Received ws = new Received("ws@" + n);
            WsClient c = WsClient.connect(node, "/v1/ws", frame -> {
                if (frame.path("op").asText().equals("message")) {
                    ws.add(frame.get("offset").asLong(), frame.get("data").asText());
                }
            });
            c.send("{\"op\":\"subscribe\",\"topic\":\"" + topic + "\",\"from\":\"earliest\"}");
            connections.add(c);
            readers.add(ws);

            Received sse = new Received("sse@" + n);
            connections.add(HttpClientSse.open(node.http(), node.uri("/v1/topics/" + topic + "/events?from=1"),
                    e -> {
                        if (e.type().equals("message")) {
                            sse.add(Long.parseLong(e.id()), e.data());
                        }
                    }));
            readers.add(sse);

            Received poll = new Received("longpoll@" + n);
            readers.add(poll);
            pollers.add(pool.submit(() -> longPoll(node, topic, poll, polling)));
        }
        // Each node's subscribers make it subscribe once in Redis, whatever their number; an unread topic costs none.
        await().atMost(WAIT).until(() -> shardSubscribers(topic) == NODES);
        assertThat(shardSubscribers("nodes.unread")).isZero();

        Map<Long, String> acknowledged = new ConcurrentHashMap<>();
        List<Future<?>> publishers = new ArrayList<>();
        for (int n = 0; n < NODES; n++) {
            TestServer node = nodes.get(n);
            String from = "node" + n;
            publishers.add(pool.submit(() -> {
                for (int i = 0; i < each; i++) {
                    String payload = from + "-" + i;
                    assertThat(acknowledged.put(publish(node, topic, payload), payload)).as("offset given twice")
                            .isNull();
                }
                return null;
            }));
        }
        for (Future<?> p : publishers) {
            p.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        }
        int total = NODES * each;
        assertThat(acknowledged.keySet()).containsExactlyInAnyOrderElementsOf(
                LongStream.rangeClosed(1, total).boxed().toList());
        List<String> inOrder = LongStream.rangeClosed(1, total).mapToObj(acknowledged::get).toList();

        for (Received r : readers) {
            await().atMost(WAIT).alias(r.reader() + " received all").until(() -> r.offsets().size() >= total);
        }
        polling.set(false);
        for (Received r : readers) {
            assertThat(r.offsets()).as("offsets %s received", r.reader())
                    .containsExactlyElementsOf(LongStream.rangeClosed(1, total).boxed().toList());
            assertThat(r.payloads()).as("payloads %s received", r.reader()).containsExactlyElementsOf(inOrder);
        }
        for (Future<?> p : pollers) {
            p.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        }
        for (AutoCloseable c : connections) {
            c.close();
        }
        await().atMost(WAIT).alias("nodes unsubscribe once their readers are gone")
                .until(() -> shardSubscribers(topic) == 0);
    }

    @Test
    void aTopicChangedOnOneNodeIsSeenSoOnTheOthers() {
        String topic = "nodes.state";
        publish(nodes.get(0), topic, "one");
        publish(nodes.get(1), topic, "two");
        for (TestServer node : nodes) {
            JsonNode d = json(node.get("/v1/topics/" + topic).body());
            assertThat(d.get("lastOffset").asLong()).as("last offset on %s", node.url()).isEqualTo(2);
        }
        HttpResponse<String> deleted = nodes.get(2).send(HttpRequest.newBuilder(nodes.get(2).uri("/v1/topics/"
                + topic)).DELETE().build());
        assertThat(deleted.statusCode()).isEqualTo(204);
        for (TestServer node : nodes) {
            assertThat(node.get("/v1/topics/" + topic).statusCode()).isEqualTo(404);
        }
    }

    @Test
    void aJobSubmittedOnOneNodeIsClaimedOnAnotherAndAWaiterOnTheThirdSeesItFinish() throws Exception {
        HttpResponse<String> submitted = nodes.get(0).post("/v1/queues/across/jobs", "text/plain", "work");
        assertThat(submitted.statusCode()).isEqualTo(202);
        String id = json(submitted.body()).get("id").asText();
        CompletableFuture<HttpResponse<String>> waiter = nodes.get(2).http().sendAsync(HttpRequest.newBuilder(
                nodes.get(2).uri("/v1/jobs/" + id + "?wait=20s&version=2")).build(), HttpResponse.BodyHandlers.ofString());

        HttpResponse<String> claim = nodes.get(1).post("/v1/queues/across/claim", "text/plain", "");
        assertThat(claim.statusCode()).isEqualTo(200);
        JsonNode claimed = json(claim.body());
        assertThat(claimed.get("id").asText()).isEqualTo(id);
        assertThat(claimed.get("payload").asText()).isEqualTo("work");
        HttpResponse<String> done = nodes.get(2).send(HttpRequest.newBuilder(nodes.get(2).uri("/v1/jobs/" + id
                + "/complete")).header("Lease-Token", claimed.get("lease").asText())
                .POST(HttpRequest.BodyPublishers.ofString("done")).build());
        assertThat(done.statusCode()).isEqualTo(200);

        JsonNode seen = json(waiter.get(20, TimeUnit.SECONDS).body());
        assertThat(seen.get("status").asText()).isEqualTo("succeeded");
        assertThat(seen.get("result").asText()).isEqualTo("done");
        for (TestServer node : nodes) {
            assertThat(json(node.get("/v1/jobs/" + id).body())).isEqualTo(seen);
        }
    }

    @Test
    void eachNodeReportsItsRedisHealthInReadyzAndMetrics() {
        for (TestServer node : nodes) {
            await().atMost(WAIT).until(() -> json(node.get("/readyz").body()).path("redis").has("rttMillis"));
            JsonNode ready = json(node.get("/readyz").body());
            assertThat(ready.get("status").asText()).isEqualTo("ready");
            assertThat(ready.get("engine").asText()).isEqualTo("redis");
            assertThat(ready.get("redis").get("rttMillis").asDouble()).isPositive();
            assertThat(ready.get("redis").get("reconnects").asLong()).isZero();
            assertThat(ready.get("redis").get("commandsInFlight").asLong()).isNotNegative();
            String metrics = node.get("/metrics").body();
            assertThat(metrics).contains("switchboard_redis_rtt_seconds ", "switchboard_redis_reconnects_total 0.0",
                    "switchboard_redis_commands_inflight ", "switchboard_redis_ping_seconds_count ");
        }
    }

    /** Long polls one after the other from where the last ended, as a client does. */
    private static Void longPoll(TestServer node, String topic, Received into, AtomicBoolean polling) {
        long from = 1;
        while (polling.get()) {
            HttpResponse<String> r = node.get("/v1/topics/" + topic + "/messages?from=" + from + "&wait=2s");
            assertThat(r.statusCode()).as("poll: %s", r.body()).isEqualTo(200);
            JsonNode body = json(r.body());
            for (JsonNode m : body.get("messages")) {
                into.add(m.get("offset").asLong(), m.get("data").asText());
            }
            from = body.get("next").asLong();
        }
        return null;
    }

    private static long shardSubscribers(String topic) {
        String out = redis.cli("PUBSUB", "SHARDNUMSUB", "switchboard:{" + topic + "}:c");
        return Long.parseLong(out.lines().toList().getLast().trim());
    }
}
