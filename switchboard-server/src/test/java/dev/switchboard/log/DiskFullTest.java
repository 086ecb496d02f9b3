package dev.switchboard.log;

import static dev.switchboard.broker.Answers.refusal;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.broker.Broker;
import dev.switchboard.broker.Message;
import dev.switchboard.broker.PublishResult;
import dev.switchboard.broker.Retention;
import dev.switchboard.broker.TestTransaction;
import dev.switchboard.config.FsyncPolicy;
import dev.switchboard.config.ServerConfig;
import dev.switchboard.testing.Slow;
import dev.switchboard.testing.SmallDisk;
import dev.switchboard.testing.TestServer;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.LongStream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * docs/architecture.md, "The writer answers every command": a store that refuses writes because its disk is full.
 * The data directory is on a small tmpfs of its own (the tests run as root and mount one); changes are refused with
 * {@code 503 unavailable} that says why without naming files, {@code /readyz} says so too, everything acknowledged
 * stays readable, and once there is room again the engine takes writes again by itself, without a restart.
 */
@Slow
@Timeout(300)
class DiskFullTest {
    private static final String BINARY = "application/octet-stream";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration RECOVERY = Duration.ofSeconds(60);

    @TempDir
    Path tmp;

    private SmallDisk disk;
    private Path mount;
    private EmbeddedBroker broker;
    private TestServer server;

    @BeforeEach
    void mountASmallFileSystem() throws Exception {
        disk = SmallDisk.mount(tmp.resolve("small"), 24);
        mount = disk.path();
    }

    @AfterEach
    void unmount() throws Exception {
        try {
            if (server != null) {
                server.close();
            }
            if (broker != null) {
                broker.close();
            }
        } finally {
            disk.close();
        }
    }

    /** Message {@code i}: 1 KiB to 64 KiB of random bytes, the same for the same {@code i}. */
    private static byte[] payload(int i) {
        Random r = new Random(i);
        byte[] b = new byte[1024 + r.nextInt(63 * 1024 + 1)];
        r.nextBytes(b);
        return b;
    }

    /** The refusal a disk-full store gives: 503 unavailable, saying why, naming no file. */
    private void assertRefusedForSpace(ApiException e) {
        assertThat(e.code()).as(e.getMessage()).isEqualTo(ErrorCode.UNAVAILABLE);
        assertRefusalText(e.getMessage());
    }

    private void assertRefusalText(String message) {
        assertThat(message).contains("no space left on device").doesNotContain("/")
                .doesNotContain(mount.getFileName().toString());
    }

    /**
     * Every acknowledged message is stored with its payload, and offsets are contiguous from 1. Returns the last
     * offset stored.
     */
    private static long assertAcknowledgedStored(Broker engine, Map<Long, Integer> acknowledged) {
        List<Message> stored = engine.read("full", 1, Integer.MAX_VALUE, Long.MAX_VALUE).join();
        assertThat(stored).extracting(Message::offset).as("offsets stay contiguous")
                .containsExactlyElementsOf(LongStream.rangeClosed(1, stored.size()).boxed().toList());
        for (Map.Entry<Long, Integer> e : acknowledged.entrySet()) {
            assertThat(e.getKey()).as("an acknowledged offset").isLessThanOrEqualTo(stored.size());
            assertThat(stored.get((int) (e.getKey() - 1)).payload()).as("the payload of offset %d", e.getKey())
                    .isEqualTo(payload(e.getValue()));
        }
        return stored.size();
    }

    @ParameterizedTest(name = "fsync={0}")
    @EnumSource(value = FsyncPolicy.class, names = {"BATCH", "ALWAYS"}) // ALWAYS fails in the syncing write
    void theEngineRefusesChangesWhileTheDiskIsFullAndTakesThemAgainByItselfOnceThereIsRoom(FsyncPolicy fsync)
            throws Exception {
        Path freedLater = disk.fill("freed-later", 3);
        disk.fill("kept", 5);
        ServerConfig config = ServerConfig.forTests(mount.resolve("data")).withFsync(fsync);
        broker = EmbeddedBroker.open(config, new SimpleMeterRegistry());

        Map<Long, Integer> acknowledged = new LinkedHashMap<>();
        ApiException refused = null;
        for (int i = 0; refused == null; i++) {
            assertThat(i).as("publishes before 24 MiB filled up").isLessThan(5_000);
            byte[] payload = payload(i);
            try {
                acknowledged.put(broker.append("full", BINARY, payload, null).get(30, TimeUnit.SECONDS).offset(), i);
            } catch (ExecutionException e) {
                refused = (ApiException) e.getCause();
            }
        }
        assertRefusedForSpace(refused);
        assertThat(acknowledged).as("publishes stored before the disk filled").hasSizeGreaterThan(50);

        // While the store refuses, every change is refused at once with the same answer.
        assertRefusedForSpace(refusal(() -> broker.append("full", BINARY, payload(0), null)));
        assertRefusedForSpace(refusal(() -> broker.append("elsewhere", "text/plain", new byte[1], "key")));
        assertRefusedForSpace(refusal(() -> broker.setRetention("full", new Retention(10L, null, null))));
        assertRefusedForSpace(refusal(() -> broker.delete("full")));
        TestTransaction tx = new TestTransaction(s -> s.putRecord("r", new byte[1]));
        broker.submit(tx);
        assertRefusedForSpace(refusal(tx::outcome));
        assertThat(broker.unhealthy()).hasValueSatisfying(this::assertRefusalText);
        assertThat(broker.state("elsewhere")).isEmpty();
        assertThat(broker.state("full").orElseThrow().retention()).isEqualTo(Retention.UNLIMITED);
        long last = assertAcknowledgedStored(broker, acknowledged);
        // The writer probes the store once a second: while the disk stays full, it stays refused (and readable).
        Awaitility.await().during(Duration.ofMillis(2500)).atMost(Duration.ofSeconds(10))
                .until(() -> broker.unhealthy().isPresent());
        assertRefusedForSpace(refusal(() -> broker.append("full", BINARY, payload(0), null)));
        assertThat(assertAcknowledgedStored(broker, acknowledged)).isEqualTo(last);

        // 3 MiB of room: less than the store holds unflushed, so taking writes again must not need a flush.
        Files.delete(freedLater);
        Awaitility.await().atMost(RECOVERY).until(() -> broker.unhealthy().isEmpty());
        PublishResult again = broker.append("full", BINARY, payload(-1), null).get(30, TimeUnit.SECONDS);
        assertThat(again.offset()).isEqualTo(last + 1);
        acknowledged.put(again.offset(), -1);
        assertAcknowledgedStored(broker, acknowledged);

        broker.close();
        broker = EmbeddedBroker.open(config, new SimpleMeterRegistry());
        assertThat(assertAcknowledgedStored(broker, acknowledged)).as("after a restart").isEqualTo(last + 1);
        assertThat(broker.append("full", BINARY, payload(-2), null).get(30, TimeUnit.SECONDS).offset())
                .isEqualTo(last + 2);
    }

    private HttpResponse<String> publish(byte[] payload) {
        return server.send(HttpRequest.newBuilder(server.uri("/v1/topics/full/messages"))
                .header("Content-Type", BINARY).POST(HttpRequest.BodyPublishers.ofByteArray(payload)).build());
    }

    private static JsonNode error(HttpResponse<String> r) throws IOException {
        return JSON.readTree(r.body()).get("error");
    }

    @Test
    void overHttpReadyzSaysWhyWhileHealthzStaysUpAndTheServerRecoversByItself() throws Exception {
        server = TestServer.startIn(mount.resolve("data"), UnaryOperator.identity());
        assertThat(server.get("/readyz").statusCode()).isEqualTo(200);

        Map<Long, Integer> acknowledged = new LinkedHashMap<>();
        HttpResponse<String> refused = null;
        for (int i = 0; refused == null; i++) {
            assertThat(i).as("publishes before 24 MiB filled up").isLessThan(5_000);
            HttpResponse<String> r = publish(payload(i));
            if (r.statusCode() == 201) {
                acknowledged.put(JSON.readTree(r.body()).get("offset").asLong(), i);
            } else {
                refused = r;
            }
        }
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(503);
        assertThat(error(refused).get("code").asText()).isEqualTo("unavailable");
        assertRefusalText(error(refused).get("message").asText());

        HttpResponse<String> ready = server.get("/readyz");
        assertThat(ready.statusCode()).as(ready.body()).isEqualTo(503);
        assertThat(error(ready).get("code").asText()).isEqualTo("unavailable");
        assertRefusalText(error(ready).get("message").asText());
        HttpResponse<String> health = server.get("/healthz");
        assertThat(health.statusCode()).as("alive, though not ready").isEqualTo(200);
        long last = assertAcknowledgedStored(server.server().broker(), acknowledged);

        disk.grow(64);
        Awaitility.await().atMost(RECOVERY).until(() -> server.get("/readyz").statusCode() == 200);
        HttpResponse<String> again = publish(payload(-1));
        assertThat(again.statusCode()).as(again.body()).isEqualTo(201);
        assertThat(JSON.readTree(again.body()).get("offset").asLong()).isEqualTo(last + 1);
        acknowledged.put(last + 1, -1);
        assertAcknowledgedStored(server.server().broker(), acknowledged);

        server.restart();
        assertThat(server.get("/readyz").statusCode()).isEqualTo(200);
        assertThat(assertAcknowledgedStored(server.server().broker(), acknowledged)).as("after a restart")
                .isEqualTo(last + 1);
        HttpResponse<String> afterRestart = publish(payload(-2));
        assertThat(afterRestart.statusCode()).as(afterRestart.body()).isEqualTo(201);
        assertThat(JSON.readTree(afterRestart.body()).get("offset").asLong()).isEqualTo(last + 2);
    }
}
