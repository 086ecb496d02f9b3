package dev.switchboard.engine.redis;

import static dev.switchboard.broker.Answers.refusal;
import static dev.switchboard.broker.Answers.value;
import static dev.switchboard.broker.Payloads.bytes;
import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.broker.PublishResult;
import dev.switchboard.broker.Retention;
import dev.switchboard.config.Limits;
import dev.switchboard.testing.RedisServer;
import dev.switchboard.testing.Slow;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --redis-wait-replicas}: a change is acknowledged only once a replica holds it, and refused (after a
 * second) while no replica answers; a retry with the same Idempotency-Key then stores it once. A real primary and
 * replica.
 */
@Slow
class RedisReplicaWaitTest {
    private static final String STREAM = "sb:{replicated}:s";
    @TempDir
    Path dir;
    private RedisServer primary;
    private RedisServer replica;
    private RedisBroker broker;

    @AfterEach
    void stop() {
        if (broker != null) {
            broker.close();
        }
        replica.close();
        primary.close();
    }

    @Test
    void anAcknowledgedChangeIsOnTheReplicaAndOneNoReplicaTookIsRefused() {
        primary = RedisServer.start(dir.resolve("primary"));
        replica = RedisServer.start(dir.resolve("replica"), "--replicaof", "127.0.0.1",
                String.valueOf(primary.port()));
        awaitReplicaLinked();
        broker = RedisBroker.open(primary.uri(), "sb:", 1, Limits.defaults(), Retention.UNLIMITED,
                Duration.ofHours(1), new SimpleMeterRegistry());

        for (int i = 1; i <= 20; i++) {
            assertThat(value(broker.append("replicated", "text/plain", bytes("m" + i), null)).offset())
                    .isEqualTo(i);
            assertThat(replica.cli("XLEN", STREAM)).as("on the replica once acknowledged").isEqualTo("" + i);
        }
        // Pipelined: rounds of many appends, each round covered by one WAIT.
        List<CompletableFuture<PublishResult>> pipelined = IntStream.rangeClosed(21, 120).mapToObj(i ->
                broker.append("replicated", "text/plain", bytes("m" + i), null)).toList();
        assertThat(value(pipelined.getLast()).offset()).isEqualTo(120);
        assertThat(replica.cli("XLEN", STREAM)).isEqualTo("120");

        replica.kill();
        long start = System.nanoTime();
        ApiException refused = refusal(broker.append("replicated", "text/plain", bytes("unreplicated"), "k"));
        assertThat(refused.code()).isEqualTo(ErrorCode.UNAVAILABLE);
        assertThat(refused.getMessage()).contains("0 of the 1 Redis replicas");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        assertThat(primary.cli("XLEN", STREAM)).as("stored on the primary, not acknowledged").isEqualTo("121");

        replica.restart();
        awaitReplicaLinked();
        PublishResult retried = value(broker.append("replicated", "text/plain", bytes("unreplicated"), "k"));
        assertThat(retried.offset()).isEqualTo(121);
        assertThat(retried.replayed()).as("stored once").isTrue();
        assertThat(replica.cli("XLEN", STREAM)).isEqualTo("121");
    }

    private void awaitReplicaLinked() {
        Awaitility.await().atMost(Duration.ofSeconds(30))
                .until(() -> replica.cli("INFO", "replication").contains("master_link_status:up"));
    }
}
