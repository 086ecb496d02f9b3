package dev.switchboard.presence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.broker.Broker;
import dev.switchboard.broker.Message;
import dev.switchboard.config.ServerConfig;
import dev.switchboard.engine.redis.RedisBroker;
import dev.switchboard.testing.RedisCluster;
import dev.switchboard.testing.Slow;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Presence on a three-master Redis Cluster: a member's record takes its topic's hash slot, as do the topic's events
 * {@code _presence.<t>}, so each join and leave is one script and is stored there.
 */
@Slow
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PresenceClusterTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void joinsAndLeavesOfTopicsOnEveryMasterAreStoredWithTheirRecords() throws IOException {
        ServerConfig config = ServerConfig.forTests(dir);
        // Topics whose slots are spread over the three masters (the cluster splits the slots in thirds).
        List<String> topics = List.of("room.a", "room.b", "room.c", "room.d", "room.e");
        try (RedisCluster cluster = RedisCluster.start(dir.resolve("cluster"));
             Broker broker = RedisBroker.open(cluster.uri(), "presence-test:", 0, config.limits(),
                     config.defaultRetention(), config.idempotencyTtl(), new SimpleMeterRegistry());
             Presence presence = Presence.open(broker)) {
            assertThat(topics.stream().map(t -> cluster.nodes().getFirst().cli("CLUSTER", "KEYSLOT", t))
                    .map(slot -> Integer.parseInt(slot) * 3 / 16384).distinct()).as("topics on every master").hasSize(3);
            List<Presence.Member> members = topics.stream().map(t -> presence.join(t, "erin", "ws")).toList();
            for (String topic : topics) {
                await().atMost(Duration.ofSeconds(10)).until(() -> events(broker, topic).size() == 1);
                JsonNode join = events(broker, topic).getFirst();
                assertThat(join.get("event").asText()).isEqualTo("join");
                assertThat(join.get("subject").asText()).isEqualTo("erin");
            }
            assertThat(broker.recordsWithPrefix("presence/")).extracting(Broker.Record::key)
                    .as("one record per member, in key order, from every master")
                    .hasSize(topics.size()).isSorted()
                    .allSatisfy(key -> assertThat(members.stream().anyMatch(m -> key.endsWith(m.connection()))).isTrue());

            members.forEach(presence::leave);
            for (String topic : topics) {
                await().atMost(Duration.ofSeconds(10)).until(() -> events(broker, topic).size() == 2);
                assertThat(events(broker, topic).get(1).get("event").asText()).isEqualTo("leave");
            }
            assertThat(broker.recordsWithPrefix("presence/")).isEmpty();
        }
    }

    private static List<JsonNode> events(Broker broker, String topic) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (Message m : broker.read("_presence." + topic, 1, 100, 1 << 20).join()) {
            out.add(JSON.readTree(new String(m.payload(), StandardCharsets.UTF_8)));
        }
        return out;
    }
}
