package dev.switchboard.groups;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.config.GroupSettings;
import dev.switchboard.config.ServerConfig;
import dev.switchboard.groups.GroupHttp.Fetched;
import dev.switchboard.testing.TestServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What consumer groups promise over HTTP, on the engine a subclass names: every message acknowledged exactly once
 * across a group's members, redelivery of what an absent member held, every group seeing everything, dead letters
 * after too many deliveries, and positions that survive a restart.
 */
abstract class GroupContract {
    private final List<AutoCloseable> open = new ArrayList<>();

    /** The engine's setting of the server config. */
    abstract ServerConfig onEngine(ServerConfig config);

    TestServer server(GroupSettings groups) {
        UnaryOperator<ServerConfig> config = c -> onEngine(c).withGroups(groups);
        TestServer s = TestServer.start(config);
        open.add(0, s);
        return s;
    }

    GroupHttp http(TestServer s) {
        GroupHttp h = new GroupHttp(s.url());
        open.add(0, h);
        return h;
    }

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : open) {
            c.close();
        }
    }

    @Test
    void threeMembersAcknowledgeTenThousandMessagesEachExactlyOnce() throws Exception {
        TestServer s = server(GroupSettings.DEFAULTS);
        GroupHttp http = http(s);
        http.publish("orders", 1, 10_000);
        Map<Long, AtomicInteger> acks = new ConcurrentHashMap<>();
        ExecutorService members = Executors.newFixedThreadPool(3);
        try {
            List<Future<?>> running = new ArrayList<>();
            for (int m = 0; m < 3; m++) {
                String member = "m" + m;
                running.add(members.submit(() -> {
                    for (List<Fetched> batch; !(batch = http.fetch("orders", "billing", member, 100, "0s")).isEmpty(); ) {
                        for (Fetched f : batch) {
                            assertThat(f.data()).isEqualTo("m" + f.offset());
                        }
                        http.ack("orders", "billing", member, GroupHttp.offsets(batch))
                                .forEach(o -> acks.computeIfAbsent(o, x -> new AtomicInteger()).incrementAndGet());
                    }
                    return null;
                }));
            }
            for (Future<?> f : running) {
                f.get();
            }
        } finally {
            members.shutdownNow();
        }
        assertThat(acks).hasSize(10_000);
        assertThat(acks.values()).allMatch(n -> n.get() == 1);
        JsonNode status = http.status("orders", "billing");
        assertThat(status.get("committed").asLong()).isEqualTo(10_001);
        assertThat(status.get("lag").asLong()).isZero();
        assertThat(status.get("inFlight").asInt()).isZero();
        assertThat(status.get("members").asInt()).isEqualTo(3);
    }

    @Test
    void whatAnAbsentMemberHeldGoesToAnotherWithItsDeliveryCount() {
        TestServer s = server(GroupSettings.DEFAULTS.withDelivery(Duration.ofSeconds(1), 5));
        GroupHttp http = http(s);
        http.publish("jobs", 1, 20);
        List<Fetched> lost = http.fetch("jobs", "workers", "dies", 10, "0s");
        assertThat(GroupHttp.offsets(lost)).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L);
        List<Fetched> rest = http.fetch("jobs", "workers", "lives", 100, "0s");
        assertThat(GroupHttp.offsets(rest)).hasSize(10).allMatch(o -> o > 10);
        assertThat(http.ack("jobs", "workers", "lives", GroupHttp.offsets(rest))).hasSize(10);
        assertThat(http.status("jobs", "workers").get("committed").asLong()).isEqualTo(1);

        // the lease of "dies" expires; a held fetch of "lives" gets its messages, delivered for the second time
        List<Fetched> again = http.fetch("jobs", "workers", "lives", 100, "10s");
        assertThat(GroupHttp.offsets(again)).containsExactlyElementsOf(GroupHttp.offsets(lost));
        assertThat(again).allMatch(f -> f.deliveries() == 2);
        assertThat(http.ack("jobs", "workers", "dies", GroupHttp.offsets(lost))).as("a lost lease").isEmpty();
        assertThat(http.ack("jobs", "workers", "lives", GroupHttp.offsets(again))).hasSize(10);
        JsonNode status = http.status("jobs", "workers");
        assertThat(status.get("committed").asLong()).isEqualTo(21);
        assertThat(status.get("inFlight").asInt()).isZero();
    }

    @Test
    void twoGroupsEachSeeEverything() {
        TestServer s = server(GroupSettings.DEFAULTS);
        GroupHttp http = http(s);
        http.publish("events", 1, 50);
        for (String group : List.of("audit", "search")) {
            List<Long> seen = new ArrayList<>();
            for (List<Fetched> batch; !(batch = http.fetch("events", group, "one", 20, "0s")).isEmpty(); ) {
                seen.addAll(GroupHttp.offsets(batch));
                http.ack("events", group, "one", GroupHttp.offsets(batch));
            }
            assertThat(seen).hasSize(50).doesNotHaveDuplicates();
            assertThat(http.status("events", group).get("committed").asLong()).isEqualTo(51);
        }
    }

    @Test
    void aMessageDeliveredTooOftenGoesToTheDeadLetterTopic() {
        TestServer s = server(GroupSettings.DEFAULTS.withDelivery(Duration.ofSeconds(1), 2));
        GroupHttp http = http(s);
        http.publish("mail", 1, 2);
        assertThat(GroupHttp.offsets(http.fetch("mail", "senders", "a", 1, "0s"))).containsExactly(1L);
        List<Fetched> second = http.fetch("mail", "senders", "b", 1, "10s"); // offset 2 first: it was never held
        assertThat(GroupHttp.offsets(second)).containsExactly(2L);
        http.ack("mail", "senders", "b", List.of(2L));
        List<Fetched> retry = http.fetch("mail", "senders", "b", 1, "10s");
        assertThat(retry).containsExactly(new Fetched(1, "m1", 2));
        // not acknowledged a second time: moved to mail.dead and counted done
        await().atMost(Duration.ofSeconds(10)).until(() -> http.status("mail", "senders").get("committed").asLong() == 3);
        GroupHttp.Response dead = http.send("GET", "/v1/topics/mail.dead/messages?from=earliest", null);
        assertThat(dead.status()).isEqualTo(200);
        JsonNode letter = dead.body().get("messages").get(0).get("data");
        assertThat(letter.get("topic").asText()).isEqualTo("mail");
        assertThat(letter.get("offset").asLong()).isEqualTo(1);
        assertThat(letter.get("data").asText()).isEqualTo("m1");
        assertThat(letter.get("type").asText()).isEqualTo("application/json");
        assertThat(letter.get("group").asText()).isEqualTo("senders");
        assertThat(letter.get("deliveries").asInt()).isEqualTo(2);
        assertThat(http.fetch("mail", "senders", "b", 10, "0s")).isEmpty();
    }

    @Test
    void committedOffsetsAndLeasesSurviveARestart() {
        TestServer s = server(GroupSettings.DEFAULTS);
        GroupHttp http = http(s);
        http.publish("ledger", 1, 30);
        List<Fetched> held = http.fetch("ledger", "post", "a", 10, "0s");
        http.ack("ledger", "post", "a", GroupHttp.offsets(held).subList(0, 5));
        List<Fetched> other = http.fetch("ledger", "post", "b", 5, "0s");
        s.restart();
        JsonNode status = http.status("ledger", "post");
        assertThat(status.get("committed").asLong()).isEqualTo(6);
        assertThat(status.get("inFlight").asInt()).isEqualTo(10);
        assertThat(status.get("lag").asLong()).isEqualTo(25);
        // the leases are still held: a new member gets only what nobody holds
        assertThat(GroupHttp.offsets(http.fetch("ledger", "post", "c", 100, "0s")))
                .containsExactlyElementsOf(range(16, 30));
        assertThat(http.ack("ledger", "post", "a", GroupHttp.offsets(held).subList(5, 10))).hasSize(5);
        assertThat(http.ack("ledger", "post", "b", GroupHttp.offsets(other))).hasSize(5);
        assertThat(http.status("ledger", "post").get("committed").asLong()).isEqualTo(16);
    }

    @Test
    void deletingTheTopicDeletesItsGroups() {
        TestServer s = server(GroupSettings.DEFAULTS);
        GroupHttp http = http(s);
        http.publish("temp", 1, 3);
        assertThat(http.fetch("temp", "g", "a", 2, "0s")).hasSize(2);
        assertThat(http.send("DELETE", "/v1/topics/temp", null).status()).isEqualTo(204);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> http.send("GET", "/v1/topics/temp/groups/g", null).status() == 404);
        http.publish("temp", 1, 1);
        List<Fetched> fresh = http.fetch("temp", "g", "a", 10, "0s");
        assertThat(fresh).containsExactly(new Fetched(1, "m1", 1));
    }

    static List<Long> range(long first, long last) {
        List<Long> r = new ArrayList<>();
        for (long o = first; o <= last; o++) {
            r.add(o);
        }
        return r;
    }
}
