package dev.switchboard.stream;

import static dev.switchboard.stream.StreamFixtures.json;
import static dev.switchboard.stream.StreamFixtures.publish;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.testing.RedisCluster;
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
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two Switchboard nodes on one real three-master Redis Cluster ({@code --engine redis-cluster://…}) behave as one
 * server: what is published on one is received on the other, with the same offsets, and a job submitted on one is
 * claimed and completed on the other, for topics and queues whose slots are on different masters, and while a
 * topic's slot moves to another master.
 */
@Slow
@Timeout(120)
class RedisClusterNodesTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    /** Enough topics that their slots land on every master (each master holds a third of the slots). */
    private static final List<String> TOPICS = List.of("cluster.a", "cluster.b", "cluster.c", "cluster.d",
            "cluster.e", "cluster.f");

    @TempDir
    static Path dir;
    private static RedisCluster cluster;
    private static TestServer publisher;
    private static TestServer subscriber;

    @BeforeAll
    static void startClusterAndNodes() {
        cluster = RedisCluster.start(dir.resolve("cluster"));
        publisher = TestServer.start(c -> c.withEngine(cluster.uri()));
        subscriber = TestServer.start(c -> c.withEngine(cluster.uri()));
    }

    @AfterAll
    static void stopNodesAndCluster() {
        if (publisher != null) {
            publisher.close();
        }
        if (subscriber != null) {
            subscriber.close();
        }
        cluster.close();
    }

    @Test
    void messagesPublishedOnOneNodeReachSubscribersOnTheOtherInOrderWithTheirOffsets() {
        int each = 20;
        Map<String, List<Long>> offsets = new ConcurrentHashMap<>();
        Map<String, List<String>> payloads = new ConcurrentHashMap<>();
        List<AutoCloseable> streams = new ArrayList<>();
        for (String topic : TOPICS) {
            List<Long> o = offsets.computeIfAbsent(topic, t -> new CopyOnWriteArrayList<>());
            List<String> p = payloads.computeIfAbsent(topic, t -> new CopyOnWriteArrayList<>());
            streams.add(HttpClientSse.open(subscriber.http(), subscriber.uri("/v1/topics/" + topic + "/events?from=1"),
                    e -> {
                        if (e.type().equals("message")) {
                            o.add(Long.parseLong(e.id()));
                            p.add(e.data());
                        }
                    }));
        }
        for (int i = 1; i <= each; i++) {
            for (String topic : TOPICS) {
                assertThat(publish(publisher, topic, topic + " #" + i)).isEqualTo(i);
            }
        }
        List<Long> expected = LongStream.rangeClosed(1, each).boxed().toList();
        for (String topic : TOPICS) {
            await().atMost(WAIT).until(() -> offsets.get(topic).size() >= each);
            assertThat(offsets.get(topic)).as(topic).isEqualTo(expected);
            assertThat(payloads.get(topic)).as(topic).isEqualTo(expected.stream().map(i -> topic + " #" + i)
                    .toList());
        }
        streams.forEach(s -> {
            try {
                s.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        // The registry is one set for the whole cluster: the other node lists every topic.
        assertThat(json(subscriber.get("/v1/topics").body()).findValuesAsText("topic")).containsAll(TOPICS);
    }

    @Test
    void aTopicKeepsFlowingToItsSubscribersWhenItsSlotMovesToAnotherMaster() {
        String topic = "cluster.moving";
        List<Long> offsets = new CopyOnWriteArrayList<>();
        try (HttpClientSse sse = HttpClientSse.open(subscriber.http(), subscriber.uri("/v1/topics/" + topic
                + "/events?from=1"), e -> {
                    if (e.type().equals("message")) {
                        offsets.add(Long.parseLong(e.id()));
                    }
                })) {
            for (int i = 1; i <= 10; i++) {
                assertThat(publish(publisher, topic, "before #" + i)).isEqualTo(i);
            }
            await().atMost(WAIT).until(() -> offsets.size() >= 10);

            cluster.moveSlotOf("{" + topic + "}");

            for (int i = 11; i <= 20; i++) {
                assertThat(publish(publisher, topic, "after #" + i)).isEqualTo(i);
            }
            await().atMost(WAIT).until(() -> offsets.size() >= 20);
            assertThat(offsets).isEqualTo(LongStream.rangeClosed(1, 20).boxed().toList());
        }
    }

    @Test
    void bothNodesAreReadyOnTheCluster() {
        for (TestServer node : List.of(publisher, subscriber)) {
            HttpResponse<String> ready = node.get("/readyz");
            assertThat(ready.statusCode()).isEqualTo(200);
            assertThat(json(ready.body()).path("engine").asText()).isEqualTo("redis");
        }
    }

    @Test
    void jobsOfQueuesOnEveryMasterAreSubmittedOnOneNodeAndClaimedAndCompletedOnTheOther() throws Exception {
        for (String queue : List.of("video", "audio", "mail", "thumbs", "reports", "billing")) {
            HttpResponse<String> submitted = publisher.post("/v1/queues/" + queue + "/jobs", "text/plain", "work");
            assertThat(submitted.statusCode()).as(submitted.body()).isEqualTo(202);
            String id = json(submitted.body()).get("id").asText();
            CompletableFuture<HttpResponse<String>> waiter = publisher.http().sendAsync(HttpRequest.newBuilder(
                    publisher.uri("/v1/jobs/" + id + "?wait=20s&version=2")).build(),
                    HttpResponse.BodyHandlers.ofString());

            HttpResponse<String> claim = subscriber.post("/v1/queues/" + queue + "/claim", "text/plain", "");
            assertThat(claim.statusCode()).isEqualTo(200);
            JsonNode claimed = json(claim.body());
            assertThat(claimed.get("id").asText()).isEqualTo(id);
            assertThat(claimed.get("payload").asText()).isEqualTo("work");
            HttpResponse<String> done = subscriber.send(HttpRequest.newBuilder(subscriber.uri("/v1/jobs/" + id
                    + "/complete")).header("Lease-Token", claimed.get("lease").asText())
                    .POST(HttpRequest.BodyPublishers.ofString("done")).build());
            assertThat(done.statusCode()).isEqualTo(200);

            JsonNode seen = json(waiter.get(20, TimeUnit.SECONDS).body());
            assertThat(seen.get("status").asText()).isEqualTo("succeeded");
            assertThat(seen.get("version").asLong()).isEqualTo(3);
            assertThat(subscriber.get("/v1/jobs/" + id + "/result").body()).isEqualTo("done");
        }
    }
}
