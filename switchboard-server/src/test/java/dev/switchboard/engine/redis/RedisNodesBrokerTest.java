package dev.switchboard.engine.redis;

import static dev.switchboard.broker.Answers.refusal;
import static dev.switchboard.broker.Answers.value;
import static dev.switchboard.broker.Payloads.bytes;
import static dev.switchboard.broker.Payloads.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.broker.Message;
import dev.switchboard.broker.RecordingWatcher;
import dev.switchboard.broker.Retention;
import dev.switchboard.broker.TestTransaction;
import dev.switchboard.config.Limits;
import dev.switchboard.testing.RedisServer;
import dev.switchboard.testing.Slow;
import dev.switchboard.wire.ErrorCode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.stream.LongStream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two engines on one Redis, as two nodes: what the contract suite, with one engine, cannot show. */
@Slow
class RedisNodesBrokerTest {
    private static final String TEXT = "text/plain";
    @TempDir
    static Path dir;
    private static RedisServer redis;
    private RedisBroker nodeA;
    private RedisBroker nodeB;

    @BeforeAll
    static void startRedis() {
        redis = RedisServer.start(dir.resolve("redis"));
    }

    @AfterAll
    static void stopRedis() {
        redis.close();
    }

    @BeforeEach
    void openNodes() {
        redis.cli("FLUSHALL");
        nodeA = open();
        nodeB = open();
    }

    @AfterEach
    void closeNodes() {
        nodeA.close();
        nodeB.close();
    }

    private static RedisBroker open() {
        return RedisBroker.open(redis.uri(), "sb:", 0, Limits.defaults(), Retention.UNLIMITED, Duration.ofHours(1),
                new SimpleMeterRegistry());
    }

    @Test
    void aTransactionOvertakenByAnotherNodesAppendFailsWholeAndStoresNothing() {
        value(nodeA.append("contended", TEXT, bytes("first"), null));
        TestTransaction tx = new TestTransaction(s -> {
            Message promised = s.append("contended", TEXT, bytes("staged on A"));
            assertThat(promised.offset()).isEqualTo(2);
            // Meanwhile node B takes offset 2: A's promise would be wrong, so A's transaction must not be stored.
            assertThat(value(nodeB.append("contended", TEXT, bytes("from B"), null)).offset()).isEqualTo(2);
            s.putRecord("contended/r", bytes("staged on A"));
        });
        nodeA.submit(tx);
        assertThat(refusal(tx.outcome()).code()).isEqualTo(ErrorCode.UNAVAILABLE);
        assertThat(refusal(tx.outcome()).getMessage()).contains("changed on another node");
        assertThat(tx.calls()).containsExactly("stage", "failed");
        assertThat(value(nodeA.read("contended", 1, 10, Long.MAX_VALUE))).extracting(m -> text(m))
                .containsExactly("first", "from B");
        assertThat(value(nodeA.record("contended/r"))).isNull();

        TestTransaction retried = new TestTransaction(s -> s.append("contended", TEXT, bytes("retried on A")));
        nodeA.submit(retried);
        value(retried.outcome());
        assertThat(value(nodeB.read("contended", 3, 10, Long.MAX_VALUE))).extracting(m -> text(m))
                .containsExactly("retried on A");
    }

    @Test
    void messagesTooLargeToTravelWithTheirAnnouncementAreReadFromTheStream() {
        RecordingWatcher onB = RecordingWatcher.watching(nodeB, "large");
        byte[] large = new byte[40 * 1024];
        Arrays.fill(large, (byte) 'x');
        large[large.length - 1] = 'y';
        value(nodeA.append("large", TEXT, bytes("small"), null)); // travels with its announcement
        value(nodeA.appendBatch("large", TEXT, List.of(large, large, large), null)); // 120 KiB: read back
        Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> onB.count("committed") == 2);
        assertThat(onB.events()).containsExactly("appended 1", "committed", "appended 2", "appended 3", "appended 4",
                "committed");
        assertThat(onB.messages().get(0).payload()).isEqualTo(bytes("small"));
        for (Message m : onB.messages().subList(1, 4)) {
            assertThat(m.payload()).isEqualTo(large);
            assertThat(m.type()).isEqualTo(TEXT);
        }
        onB.assertEveryChangeWasReadableWhenHeard();
    }

    @Test
    void watchersOnEachNodeHearTheOtherNodesChangesInOrder() {
        RecordingWatcher onA = RecordingWatcher.watching(nodeA, "shared");
        RecordingWatcher onB = RecordingWatcher.watching(nodeB, "shared");
        for (int i = 1; i <= 50; i++) {
            value((i % 2 == 0 ? nodeA : nodeB).append("shared", TEXT, bytes("m" + i), null));
        }
        for (RecordingWatcher w : List.of(onA, onB)) {
            Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> w.events().contains("appended 50"));
            assertThat(w.offsets()).containsExactlyElementsOf(LongStream.rangeClosed(1, 50).boxed().toList());
            assertThat(w.messages()).extracting(m -> text(m))
                    .containsExactlyElementsOf(LongStream.rangeClosed(1, 50).mapToObj(i -> "m" + i).toList());
        }
        // Told a little after the change, a node may find messages already dropped by retention: it does not tell
        // them then, and its readers see a gap, as they would had they read later. Hence the wait above.
        value(nodeB.setRetention("shared", new Retention(10L, null, null)));
        for (RecordingWatcher w : List.of(onA, onB)) {
            Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> w.events().contains("truncated 41"));
            assertThat(w.events().subList(w.events().size() - 2, w.events().size()))
                    .containsExactly("truncated 41", "committed");
            w.assertEveryChangeWasReadableWhenHeard();
        }
        assertThat(value(nodeA.delete("shared"))).isTrue();
        Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> onB.events().contains("deleted"));
        assertThat(nodeB.state("shared")).isEmpty();
    }
}
