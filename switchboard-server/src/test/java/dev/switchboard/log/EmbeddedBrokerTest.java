package dev.switchboard.log;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.broker.PublishResult;
import dev.switchboard.config.FsyncPolicy;
import dev.switchboard.config.Limits;
import dev.switchboard.config.ServerConfig;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What only the embedded engine does: group commit, its metrics, its bounded publish queue. The engine contract is
 * checked by {@link EmbeddedBrokerContractTest}, delivery by {@code fanout.DeliveryTest}.
 */
@Timeout(120)
class EmbeddedBrokerTest {
    @TempDir
    Path dir;

    private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    private final ExecutorService pool = Executors.newCachedThreadPool();
    private EmbeddedBroker broker;

    private void open(UnaryOperator<ServerConfig> customize) {
        broker = EmbeddedBroker.open(customize.apply(ServerConfig.forTests(dir)), metrics);
    }

    @AfterEach
    void close() throws InterruptedException {
        pool.shutdownNow();
        assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        if (broker != null) {
            broker.close();
        }
    }

    private static byte[] text(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void groupCommitSharesOneFsyncAmongConcurrentPublishers() throws Exception {
        open(c -> c.withFsync(FsyncPolicy.ALWAYS));
        int publishers = 64;
        int each = 20;
        CountDownLatch go = new CountDownLatch(1);
        List<Future<?>> fs = new ArrayList<>();
        for (int p = 0; p < publishers; p++) {
            int producer = p;
            fs.add(pool.submit(() -> {
                go.await();
                for (int i = 0; i < each; i++) {
                    // One at a time: a publisher waits for its ack (an fsync) before the next.
                    broker.append("gc." + (producer % 4), "text/plain", text("m"), null).join();
                }
                return null;
            }));
        }
        go.countDown();
        for (Future<?> f : fs) {
            f.get(90, TimeUnit.SECONDS);
        }
        DistributionSummary batches = metrics.get("switchboard.log.commit.batch").summary();
        assertThat((long) batches.totalAmount()).isEqualTo((long) publishers * each);
        assertThat(batches.mean()).as("messages per group commit over %d commits", batches.count())
                .isGreaterThan(1.0);
        assertThat(batches.max()).isGreaterThan(1.0);
        assertThat(metrics.get("switchboard.log.commit").tag("fsync", "always").timer().count())
                .isEqualTo(batches.count());
        assertThat(metrics.get("switchboard.log.fsync.policy").tag("policy", "always").gauge().value())
                .isEqualTo(1.0);
        assertThat(metrics.get("switchboard.log.fsync.policy").tag("policy", "batch").gauge().value())
                .isEqualTo(0.0);
    }

    @Test
    void aFullPublishQueueRefusesWith503AndEveryAcceptedPublishIsStored() throws Exception {
        // One waiting publish at most; under fsync=always the writer is busy fsyncing while eight threads offer.
        open(c -> c.withFsync(FsyncPolicy.ALWAYS)
                .withLimits(Limits.defaults().withMaxTopics(100).withMaxPendingPublishes(1)));
        AtomicInteger refused = new AtomicInteger();
        List<CompletableFuture<PublishResult>> accepted = Collections.synchronizedList(new ArrayList<>());
        List<Future<?>> fs = new ArrayList<>();
        for (int p = 0; p < 8; p++) {
            fs.add(pool.submit(() -> {
                for (int i = 0; i < 500; i++) {
                    try {
                        accepted.add(broker.append("busy", "text/plain", text("m"), null));
                    } catch (ApiException e) {
                        assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE);
                        refused.incrementAndGet();
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : fs) {
            f.get(60, TimeUnit.SECONDS);
        }
        assertThat(refused.get()).as("publishes refused while the queue was full").isPositive();
        Set<Long> offsets = new HashSet<>();
        for (CompletableFuture<PublishResult> f : accepted) {
            offsets.add(f.get(30, TimeUnit.SECONDS).offset());
        }
        assertThat(refused.get() + accepted.size()).isEqualTo(8 * 500);
        assertThat(offsets).containsExactlyInAnyOrderElementsOf(
                LongStream.rangeClosed(1, accepted.size()).boxed().toList());
        assertThat(broker.state("busy").orElseThrow().lastOffset()).isEqualTo(accepted.size());
    }

    @Test
    void publishesAnsweredFromAnIdempotencyKeyAreCounted() throws Exception {
        open(UnaryOperator.identity());
        CountDownLatch go = new CountDownLatch(1);
        List<Future<PublishResult>> fs = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            fs.add(pool.submit(() -> {
                go.await();
                return broker.append("idem", "text/plain", text("once"), "the-key").join();
            }));
        }
        go.countDown();
        int replays = 0;
        for (Future<PublishResult> f : fs) {
            replays += f.get(30, TimeUnit.SECONDS).replayed() ? 1 : 0;
        }
        assertThat(replays).isEqualTo(31);
        assertThat(metrics.get("switchboard.publish.replays").counter().count()).isEqualTo(31);
        assertThat(metrics.get("switchboard.publish.messages").counter().count()).isEqualTo(1);
    }
}
