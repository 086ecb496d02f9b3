package dev.switchboard.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testing.RedisServer;
import dev.switchboard.testing.Slow;
import dev.switchboard.testing.TestServer;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Redis master failing over to a replica under Sentinel ({@code redis-sentinel://…#name}, {@code
 * --redis-wait-replicas 1}), all real processes started here: a master with two replicas (the promoted one needs a
 * replica of its own to acknowledge anything with {@code WAIT 1}) and three Sentinels. The master is killed ({@code
 * kill -9}) under a steady stream of publishes; while there is no master they are refused with {@code 503}, then
 * succeed against the promoted replica by themselves. Every acknowledged message is in the topic afterwards, and a
 * subscriber connected throughout gets every message once, in order.
 */
@Slow
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RedisFailoverTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String NAME = "switchboard";
    private static final int MESSAGES = 120;
    private static final int KILL_AFTER = 40;

    @TempDir
    Path dir;

    @Test
    void publishesResumeOnThePromotedReplicaWithNothingAcknowledgedLost() throws Exception {
        List<AutoCloseable> processes = new ArrayList<>();
        try {
            RedisServer master = RedisServer.start(dir.resolve("master"));
            processes.add(master);
            for (int i = 0; i < 2; i++) {
                processes.add(RedisServer.start(dir.resolve("replica" + i), "--replicaof", "127.0.0.1",
                        String.valueOf(master.port())));
            }
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> master.cli("INFO", "replication").contains("connected_slaves:2"));
            List<RedisServer> sentinels = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                RedisServer s = RedisServer.sentinel(dir.resolve("sentinel" + i), master, NAME, 2,
                        Duration.ofSeconds(1));
                sentinels.add(s);
                processes.add(s);
            }
            // Each Sentinel must know the replicas and the other two, or there is no quorum to fail over with.
            await().atMost(Duration.ofSeconds(20)).until(() -> sentinels.stream().allMatch(s ->
                    s.cli("SENTINEL", "REPLICAS", NAME).split("\n").length > 1
                            && s.cli("SENTINEL", "SENTINELS", NAME).split("\nname\n").length == 2));
            String uri = "redis-sentinel://" + sentinels.stream().map(s -> "127.0.0.1:" + s.port())
                    .collect(Collectors.joining(",")) + "#" + NAME;

            try (TestServer server = TestServer.start(c -> c.withEngine(uri).withRedisWaitReplicas(1));
                 WsClient subscriber = WsClient.connect(server, "/v1/ws?subscribe=steady&from=earliest")) {
                Map<Long, String> acked = new ConcurrentHashMap<>();
                AtomicInteger refused = new AtomicInteger();
                Thread publisher = Thread.ofVirtual().start(() -> publish(server, acked, refused));
                await().atMost(Duration.ofSeconds(20)).until(() -> acked.size() >= KILL_AFTER);
                int before = acked.size();
                long killed = System.nanoTime();
                master.kill();
                await().atMost(Duration.ofSeconds(30)).until(() -> acked.size() > before + 1);
                System.out.printf("failover: %d publishes refused, publishes acknowledged again %d ms after the kill%n",
                        refused.get(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed));
                publisher.join(Duration.ofSeconds(45));
                assertThat(publisher.isAlive()).as("the publisher finished").isFalse();

                List<String> expected = IntStream.rangeClosed(1, MESSAGES).mapToObj(String::valueOf).toList();
                assertThat(acked).hasSize(MESSAGES);
                assertThat(refused.get()).as("publishes refused while there was no master").isPositive();
                JsonNode stored = JSON.readTree(server.get("/v1/topics/steady/messages?from=earliest&limit=1000")
                        .body()).get("messages");
                List<String> storedData = new ArrayList<>();
                stored.forEach(m -> {
                    storedData.add(m.get("data").asText());
                    assertThat(acked.get(m.get("offset").asLong())).as("offset " + m.get("offset"))
                            .isEqualTo(m.get("data").asText());
                });
                assertThat(storedData).as("every acknowledged message, once, in order").isEqualTo(expected);

                List<String> received = new CopyOnWriteArrayList<>();
                await().atMost(Duration.ofSeconds(20)).until(() -> {
                    for (JsonNode f; (f = subscriber.inbox.poll()) != null; ) {
                        if (f.path("op").asText().equals("message")) {
                            received.add(f.get("data").asText());
                        }
                    }
                    return received.size() >= MESSAGES;
                });
                assertThat(received).as("the subscriber got every message once, in order").isEqualTo(expected);
            }
        } finally {
            for (AutoCloseable p : processes.reversed()) {
                p.close();
            }
        }
    }

    /**
     * Publishes 1..MESSAGES in order, each until it is acknowledged: a refused one is sent again with the same
     * Idempotency-Key, so one stored before its refusal is stored once.
     */
    private static void publish(TestServer server, Map<Long, String> acked, AtomicInteger refused) {
        HttpClient http = HttpClient.newHttpClient();
        for (int i = 1; i <= MESSAGES; i++) {
            while (true) {
                HttpRequest post = HttpRequest.newBuilder(server.uri("/v1/topics/steady/messages"))
                        .timeout(Duration.ofSeconds(10)).header("Content-Type", "text/plain")
                        .header("Idempotency-Key", "m" + i)
                        .POST(HttpRequest.BodyPublishers.ofString(String.valueOf(i))).build();
                try {
                    HttpResponse<String> r = http.send(post, HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() == 201) {
                        acked.put(JSON.readTree(r.body()).get("offset").asLong(), String.valueOf(i));
                        break;
                    }
                    assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
                    refused.incrementAndGet();
                } catch (IOException e) {
                    throw new AssertionError("the server must answer every publish", e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }
}
