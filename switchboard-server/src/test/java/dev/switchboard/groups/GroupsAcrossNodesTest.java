package dev.switchboard.groups;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.config.GroupSettings;
import dev.switchboard.groups.GroupHttp.Fetched;
import dev.switchboard.testing.JsonFrames;
import dev.switchboard.testing.RedisServer;
import dev.switchboard.testing.ServerProcess;
import dev.switchboard.testing.Slow;
import dev.switchboard.testing.TestServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Members of one group on two nodes of one Redis share it (docs/cluster.md, "Consumer groups across nodes"): each
 * message leased to one member at a time across both, acks and lease expiries seen by both, a waiting fetch woken by
 * a publish on the other node, and leases of a node killed mid-way redelivered on the other.
 */
@Slow
@Timeout(value = 120, unit = SECONDS)
class GroupsAcrossNodesTest {
    private static final GroupSettings SHORT_LEASES = GroupSettings.DEFAULTS.withDelivery(Duration.ofSeconds(1), 5);
    @TempDir
    static Path dir;
    private static RedisServer redis;
    private final List<AutoCloseable> open = new ArrayList<>();
    private Process child;

    @BeforeAll
    static void startRedis() {
        redis = RedisServer.start(dir.resolve("redis"));
    }

    @AfterAll
    static void stopRedis() {
        redis.close();
    }

    @BeforeEach
    void empty() {
        redis.cli("FLUSHALL");
    }

    @AfterEach
    void closeAll() throws Exception {
        if (child != null) {
            child.destroyForcibly();
            child.waitFor(30, SECONDS);
        }
        for (AutoCloseable c : open) {
            c.close();
        }
    }

    private TestServer node(GroupSettings groups) {
        TestServer s = TestServer.start(c -> c.withEngine(redis.uri()).withGroups(groups));
        open.add(0, s);
        return s;
    }

    private GroupHttp http(String url) {
        GroupHttp h = new GroupHttp(url);
        open.add(0, h);
        return h;
    }

    @Test
    void membersOnTwoNodesFetchingAtOnceGetEveryMessageExactlyOnce() throws Exception {
        List<GroupHttp> nodes = List.of(http(node(GroupSettings.DEFAULTS).url()),
                http(node(GroupSettings.DEFAULTS).url()));
        nodes.get(0).publish("orders", 1, 1000);
        nodes.get(1).publish("orders", 1001, 1000);
        Map<Long, AtomicInteger> deliveries = new ConcurrentHashMap<>();
        ExecutorService members = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> running = new ArrayList<>();
            for (int m = 0; m < 4; m++) {
                GroupHttp http = nodes.get(m % 2);
                String member = "m" + m;
                running.add(members.submit(() -> {
                    List<Fetched> batch;
                    while (!(batch = http.fetch("orders", "billing", member, 25, "0s")).isEmpty()) {
                        for (Fetched f : batch) {
                            assertThat(f.data()).isEqualTo("m" + f.offset());
                            assertThat(f.deliveries()).isEqualTo(1);
                            deliveries.computeIfAbsent(f.offset(), o -> new AtomicInteger()).incrementAndGet();
                        }
                        assertThat(http.ack("orders", "billing", member, GroupHttp.offsets(batch)))
                                .containsExactlyElementsOf(GroupHttp.offsets(batch));
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
        assertThat(deliveries).hasSize(2000);
        assertThat(deliveries.values()).allMatch(n -> n.get() == 1);
        for (GroupHttp http : nodes) {
            JsonNode status = http.status("orders", "billing");
            assertThat(status.get("committed").asLong()).isEqualTo(2001);
            assertThat(status.get("lag").asLong()).isZero();
            assertThat(status.get("inFlight").asInt()).isZero();
            assertThat(status.get("members").asInt()).isEqualTo(4);
        }
    }

    @Test
    void aLeaseTakenOnOneNodeIsAcknowledgedOnTheOther() {
        GroupHttp a = http(node(GroupSettings.DEFAULTS).url());
        GroupHttp b = http(node(GroupSettings.DEFAULTS).url());
        a.publish("mail", 1, 10);
        List<Fetched> onB = b.fetch("mail", "senders", "w", 4, "0s");
        assertThat(GroupHttp.offsets(onB)).containsExactly(1L, 2L, 3L, 4L);
        assertThat(GroupHttp.offsets(a.fetch("mail", "senders", "v", 10, "0s")))
                .as("what B leased is not handed out on A").containsExactly(5L, 6L, 7L, 8L, 9L, 10L);
        assertThat(a.ack("mail", "senders", "w", List.of(1L, 2L, 3L, 4L))).containsExactly(1L, 2L, 3L, 4L);
        assertThat(b.ack("mail", "senders", "w", List.of(1L, 2L))).as("done already").isEmpty();
        assertThat(b.ack("mail", "senders", "w", List.of(5L))).as("leased to another member").isEmpty();
        for (GroupHttp http : List.of(a, b)) {
            JsonNode status = http.status("mail", "senders");
            assertThat(status.get("committed").asLong()).isEqualTo(5);
            assertThat(status.get("inFlight").asInt()).isEqualTo(6);
        }
    }

    @Test
    void aFetchWaitingOnOneNodeWakesOnAPublishOnTheOther() throws Exception {
        GroupHttp a = http(node(GroupSettings.DEFAULTS).url());
        GroupHttp b = http(node(GroupSettings.DEFAULTS).url());
        a.publish("news", 1, 1);
        assertThat(a.ack("news", "readers", "first", GroupHttp.offsets(a.fetch("news", "readers", "first", 1, "0s"))))
                .containsExactly(1L);
        CompletableFuture<List<Fetched>> waiting = CompletableFuture.supplyAsync(
                () -> b.fetch("news", "readers", "waits", 10, "30s"));
        // its first try found nothing (the group saw the member) and it is still waiting
        await().atMost(Duration.ofSeconds(10)).until(() -> a.status("news", "readers").get("members").asInt() == 2);
        assertThat(waiting).isNotDone();
        a.publish("news", 2, 1);
        assertThat(waiting.get(20, SECONDS)).containsExactly(new Fetched(2, "m2", 1));
    }

    @Test
    void leasesOfANodeKilledMidWayAreRedeliveredOnTheOther() throws Exception {
        GroupHttp a = http(node(GroupSettings.DEFAULTS).url());
        GroupHttp b = http(startProcessNode());
        a.publish("jobs", 1, 10);
        List<Fetched> lost = b.fetch("jobs", "workers", "dies", 5, "0s");
        assertThat(GroupHttp.offsets(lost)).containsExactly(1L, 2L, 3L, 4L, 5L);
        child.destroyForcibly(); // SIGKILL, while it holds five leases of one second
        assertThat(child.waitFor(30, SECONDS)).isTrue();

        List<Fetched> rest = a.fetch("jobs", "workers", "lives", 100, "0s");
        assertThat(GroupHttp.offsets(rest)).containsExactly(6L, 7L, 8L, 9L, 10L);
        a.ack("jobs", "workers", "lives", GroupHttp.offsets(rest));
        List<Fetched> again = a.fetch("jobs", "workers", "lives", 100, "20s");
        assertThat(GroupHttp.offsets(again)).containsExactly(1L, 2L, 3L, 4L, 5L);
        assertThat(again).allMatch(f -> f.deliveries() == 2);
        assertThat(a.ack("jobs", "workers", "lives", GroupHttp.offsets(again))).hasSize(5);
        assertThat(a.status("jobs", "workers").get("committed").asLong()).isEqualTo(11);
    }

    @Test
    void aWebSocketMemberOnOneNodeGetsWhatExpiredOnTheOther() {
        TestServer a = node(SHORT_LEASES);
        GroupHttp b = http(node(SHORT_LEASES).url());
        b.publish("tasks", 1, 3);
        assertThat(b.fetch("tasks", "g", "http", 3, "0s")).hasSize(3);
        JsonFrames frames = new JsonFrames();
        WebSocket ws = JsonFrames.connect(a, null, "", frames);
        ws.sendText("{\"op\":\"subscribe\",\"topic\":\"tasks\",\"group\":\"g\",\"maxInFlight\":10,\"id\":\"s\"}", true)
                .join();
        assertThat(frames.reply("s").path("op").asText()).isEqualTo("subscribed");
        await().atMost(Duration.ofSeconds(15)).until(() -> messages(frames).size() == 3);
        assertThat(messages(frames)).allMatch(m -> m.get("deliveries").asInt() == 2
                && m.get("data").asText().equals("m" + m.get("offset").asLong()));
        assertThat(messages(frames).stream().map(m -> m.get("offset").asLong())).containsExactlyInAnyOrder(1L, 2L, 3L);
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "").join();
    }

    private static List<JsonNode> messages(JsonFrames frames) {
        return frames.ops.stream().filter(o -> o.path("op").asText().equals("message")).toList();
    }

    /** A node in a process of its own, with one-second leases, that the test kills. */
    private String startProcessNode() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "--enable-native-access=ALL-UNNAMED", "-Xmx256m", "-D" + ServerProcess.ACK_TIMEOUT_PROPERTY + "=PT1S"));
        command.addAll(List.of(ServerProcess.command(port, dir.resolve("node"), "batch", redis.uri())));
        Path log = Files.createDirectories(Path.of("target", "crash-test")).resolve("groups-nodes-" + port + ".log");
        child = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        String url = "http://127.0.0.1:" + port;
        GroupHttp probe = http(url);
        Process p = child;
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(100)).until(() -> {
            assertThat(p.isAlive()).as("node process is alive (log: %s)", log.toAbsolutePath()).isTrue();
            try {
                return probe.send("GET", "/healthz", null).status() == 200;
            } catch (UncheckedIOException e) {
                return false;
            }
        });
        return url;
    }
}
