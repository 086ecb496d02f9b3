package dev.switchboard.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.broker.Message;
import dev.switchboard.broker.PublishResult;
import dev.switchboard.broker.Retention;
import dev.switchboard.broker.TopicState;
import dev.switchboard.config.FsyncPolicy;
import dev.switchboard.config.Limits;
import dev.switchboard.config.ServerConfig;
import dev.switchboard.fanout.Delivery;
import dev.switchboard.fanout.ReadResult;
import dev.switchboard.fanout.StartPosition;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import java.util.stream.LongStream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The embedded engine and the delivery above it, driven directly, on a real RocksDB log in a temporary directory. */
@Timeout(120)
class EmbeddedBrokerTest {
    private static final Duration NO_WAIT = Duration.ZERO;

    @TempDir
    Path dir;

    private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final ExecutorService pool = Executors.newCachedThreadPool();
    private EmbeddedBroker broker;
    private Delivery delivery;

    private EmbeddedBroker open(UnaryOperator<ServerConfig> customize) {
        ServerConfig config = customize.apply(ServerConfig.forTests(dir));
        broker = EmbeddedBroker.open(config, metrics);
        delivery = new Delivery(broker, config.limits(), metrics);
        return broker;
    }

    private EmbeddedBroker open() {
        return open(UnaryOperator.identity());
    }

    @AfterEach
    void close() throws InterruptedException {
        pool.shutdownNow();
        assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        timer.shutdownNow();
        if (broker != null) {
            broker.close();
        }
    }

    private static byte[] text(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private PublishResult publish(String topic, String payload) {
        return broker.append(topic, "text/plain", text(payload), null).join();
    }

    private ReadResult poll(String topic, StartPosition from, int limit) {
        return delivery.poll(topic, from, limit, NO_WAIT, timer).join();
    }

    /** Every message of a topic from {@code from}, following {@code next} until nothing more comes. */
    private List<Message> readAll(String topic, long from) {
        List<Message> all = new ArrayList<>();
        long next = from;
        while (true) {
            ReadResult r = poll(topic, new StartPosition.AtOffset(next), 1000);
            if (r.messages().isEmpty()) {
                return all;
            }
            all.addAll(r.messages());
            next = r.next();
        }
    }

    private static Limits limits(int maxTopics, int maxPendingPublishes) {
        return Limits.defaults().withMaxTopics(maxTopics).withMaxPendingPublishes(maxPendingPublishes);
    }

    /** The writer acknowledges a publish, then applies retention (CommitLoop's order): wait for the trim. */
    private void awaitFirstOffset(String topic, long first) {
        Awaitility.await().atMost(Duration.ofSeconds(10))
                .until(() -> broker.state(topic).orElseThrow().firstOffset() == first);
    }

    private static void assertCode(Throwable thrown, ErrorCode code) {
        Throwable t = thrown instanceof java.util.concurrent.CompletionException c ? c.getCause() : thrown;
        assertThat(t).isInstanceOf(ApiException.class);
        assertThat(((ApiException) t).code()).isEqualTo(code);
    }

    @Test
    void concurrentPublishersGetUniqueGapFreeOffsetsInTheirOwnOrder() throws Exception {
        open();
        int threads = 16;
        int each = 250;
        CountDownLatch go = new CountDownLatch(1);
        List<Future<List<PublishResult>>> producers = new ArrayList<>();
        for (int p = 0; p < threads; p++) {
            int producer = p;
            producers.add(pool.submit(() -> {
                go.await();
                List<CompletableFuture<PublishResult>> mine = new ArrayList<>();
                for (int i = 0; i < each; i++) {
                    // Pipelined: many publishes of one producer are queued at once.
                    mine.add(broker.append("shared", "text/plain", text(producer + ":" + i), null));
                }
                return mine.stream().map(CompletableFuture::join).toList();
            }));
        }
        go.countDown();
        Map<Long, String> sent = new ConcurrentHashMap<>();
        for (int p = 0; p < threads; p++) {
            List<PublishResult> results = producers.get(p).get(60, TimeUnit.SECONDS);
            assertThat(results).extracting(PublishResult::offset).as("producer %d's offsets follow its order", p)
                    .isSorted().doesNotHaveDuplicates();
            for (int i = 0; i < each; i++) {
                assertThat(sent.put(results.get(i).offset(), p + ":" + i)).as("offset reused").isNull();
            }
        }
        int total = threads * each;
        assertThat(sent.keySet()).containsExactlyInAnyOrderElementsOf(
                LongStream.rangeClosed(1, total).boxed().toList());

        List<Message> stored = readAll("shared", 1);
        assertThat(stored).extracting(Message::offset)
                .containsExactlyElementsOf(LongStream.rangeClosed(1, total).boxed().toList());
        for (Message m : stored) {
            assertThat(new String(m.payload(), StandardCharsets.UTF_8)).isEqualTo(sent.get(m.offset()));
        }
        TopicState info = broker.state("shared").orElseThrow();
        assertThat(info.firstOffset()).isEqualTo(1);
        assertThat(info.lastOffset()).isEqualTo(total);
        assertThat(info.messages()).isEqualTo(total);
    }

    @Test
    void concurrentPublishesToManyTopicsNumberEachTopicFromOne() throws Exception {
        open();
        int topics = 8;
        int each = 200;
        List<Future<?>> producers = new ArrayList<>();
        for (int p = 0; p < 8; p++) {
            producers.add(pool.submit(() -> {
                List<CompletableFuture<PublishResult>> fs = new ArrayList<>();
                for (int i = 0; i < each; i++) {
                    for (int t = 0; t < topics; t++) {
                        fs.add(broker.append("multi." + t, "text/plain", text("x"), null));
                    }
                }
                fs.forEach(CompletableFuture::join);
                return null;
            }));
        }
        for (Future<?> f : producers) {
            f.get(60, TimeUnit.SECONDS);
        }
        for (int t = 0; t < topics; t++) {
            assertThat(readAll("multi." + t, 1)).extracting(Message::offset)
                    .containsExactlyElementsOf(LongStream.rangeClosed(1, 8L * each).boxed().toList());
        }
        assertThat(broker.topics()).hasSize(topics);
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
    }

    @Test
    void retentionByMessageCountDropsTheOldestAndReadsReportTheGap() {
        open();
        broker.setRetention("count", new Retention(5L, null, null)).join();
        for (int i = 1; i <= 12; i++) {
            publish("count", "m" + i);
        }
        awaitFirstOffset("count", 8);
        ReadResult fromOne = poll("count", new StartPosition.AtOffset(1), 100);
        assertThat(fromOne.gap()).isTrue();
        assertThat(fromOne.messages()).extracting(Message::offset).containsExactly(8L, 9L, 10L, 11L, 12L);
        assertThat(fromOne.next()).isEqualTo(13);

        ReadResult earliest = poll("count", StartPosition.EARLIEST, 100);
        assertThat(earliest.gap()).isFalse();
        assertThat(earliest.messages()).hasSize(5);

        ReadResult fromKept = poll("count", new StartPosition.AtOffset(10), 100);
        assertThat(fromKept.gap()).isFalse();
        assertThat(fromKept.messages()).extracting(Message::offset).containsExactly(10L, 11L, 12L);

        TopicState info = broker.state("count").orElseThrow();
        assertThat(info.firstOffset()).isEqualTo(8);
        assertThat(info.lastOffset()).isEqualTo(12);
        assertThat(info.messages()).isEqualTo(5);
        assertThat(info.bytes()).isEqualTo(2 * 2 + 3 * 3);
    }

    @Test
    void retentionByBytesKeepsTheNewestWithinTheBound() {
        open();
        broker.setRetention("bytes", new Retention(null, null, 100L)).join();
        for (int i = 1; i <= 10; i++) {
            publish("bytes", "x".repeat(30));
        }
        awaitFirstOffset("bytes", 8);
        TopicState info = broker.state("bytes").orElseThrow();
        assertThat(info.bytes()).isEqualTo(90);
        assertThat(info.firstOffset()).isEqualTo(8);
        ReadResult r = poll("bytes", new StartPosition.AtOffset(1), 100);
        assertThat(r.gap()).isTrue();
        assertThat(r.messages()).extracting(Message::offset).containsExactly(8L, 9L, 10L);
    }

    @Test
    void settingRetentionOnAFullTopicAppliesAtOnce() {
        open();
        for (int i = 1; i <= 20; i++) {
            publish("later", "m" + i);
        }
        TopicState after = broker.setRetention("later", new Retention(3L, null, null)).join();
        assertThat(after.firstOffset()).isEqualTo(18);
        assertThat(after.retention()).isEqualTo(new Retention(3L, null, null));
        assertThat(poll("later", new StartPosition.AtOffset(1), 100).messages()).extracting(Message::offset)
                .containsExactly(18L, 19L, 20L);
    }

    @Test
    void readsOlderThanTheInMemoryTailComeFromTheStoreWithGaps() {
        open();
        broker.setRetention("big", new Retention(1500L, null, null)).join();
        for (int i = 1; i <= 2000; i++) {
            publish("big", "m" + i);
        }
        awaitFirstOffset("big", 501);
        // The tail holds the newest 1024; offsets 501.. are retained, so 501..976 are read from RocksDB.
        ReadResult r = poll("big", new StartPosition.AtOffset(1), 1000);
        assertThat(r.gap()).isTrue();
        assertThat(r.messages()).hasSize(1000);
        assertThat(r.messages().getFirst().offset()).isEqualTo(501);
        assertThat(r.next()).isEqualTo(1501);
        assertThat(new String(r.messages().get(10).payload(), StandardCharsets.UTF_8)).isEqualTo("m511");
        assertThat(readAll("big", 501)).extracting(Message::offset)
                .containsExactlyElementsOf(LongStream.rangeClosed(501, 2000).boxed().toList());
    }

    @Test
    void aDeletedTopicStartsAgainAtOffsetOneWithNothingOfItsPast() {
        open();
        for (int i = 1; i <= 3; i++) {
            broker.append("gone", "text/plain", text("old" + i), "key-" + i).join();
        }
        assertThat(broker.delete("gone").join()).isTrue();
        assertThat(broker.state("gone")).isEmpty();
        assertThat(broker.topics()).extracting(TopicState::name).doesNotContain("gone");
        assertThatThrownBy(() -> poll("gone", StartPosition.EARLIEST, 10)).satisfies(e -> assertCode(e, ErrorCode.TOPIC_NOT_FOUND));
        assertThat(broker.delete("gone").join()).as("nothing left to delete").isFalse();

        PublishResult again = broker.append("gone", "text/plain", text("new"), "key-3").join();
        assertThat(again.offset()).isEqualTo(1);
        assertThat(again.replayed()).as("the old topic's idempotency keys went with it").isFalse();
        ReadResult r = poll("gone", StartPosition.EARLIEST, 10);
        assertThat(r.messages()).extracting(m -> new String(m.payload(), StandardCharsets.UTF_8))
                .containsExactly("new");
        assertThat(r.gap()).isFalse();
    }

    @Test
    void theTopicLimitRefusesNewTopicsWith429() {
        open(c -> c.withLimits(limits(3, 65_536)));
        publish("a", "1");
        publish("b", "1");
        broker.setRetention("c", new Retention(10L, null, null)).join();

        assertThatThrownBy(() -> broker.append("d", "text/plain", text("1"), null))
                .satisfies(e -> assertCode(e, ErrorCode.LIMIT_EXCEEDED));
        assertThatThrownBy(() -> broker.setRetention("d", Retention.UNLIMITED)).satisfies(e -> assertCode(e, ErrorCode.LIMIT_EXCEEDED));
        assertThatThrownBy(() -> delivery.attach("d")).satisfies(e -> assertCode(e, ErrorCode.LIMIT_EXCEEDED));
        assertThat(broker.state("d")).isEmpty();

        assertThat(publish("a", "2").offset()).as("existing topics still take publishes").isEqualTo(2);
        assertThat(broker.delete("c").join()).isTrue();
        assertThat(publish("d", "1").offset()).as("room again after a delete").isEqualTo(1);
    }

    @Test
    void aFullPublishQueueRefusesWith503AndEveryAcceptedPublishIsStored() throws Exception {
        // One waiting publish at most; under fsync=always the writer is busy fsyncing while eight threads offer.
        open(c -> c.withFsync(FsyncPolicy.ALWAYS).withLimits(limits(100, 1)));
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
    void anIdempotencyKeyAppendsOnceEvenWhenRetriedConcurrently() throws Exception {
        open();
        publish("idem", "filler");
        CountDownLatch go = new CountDownLatch(1);
        List<Future<PublishResult>> fs = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            fs.add(pool.submit(() -> {
                go.await();
                return broker.append("idem", "text/plain", text("once"), "the-key").join();
            }));
        }
        go.countDown();
        Set<Long> offsets = new HashSet<>();
        int firsts = 0;
        for (Future<PublishResult> f : fs) {
            PublishResult r = f.get(30, TimeUnit.SECONDS);
            offsets.add(r.offset());
            firsts += r.replayed() ? 0 : 1;
        }
        assertThat(offsets).containsExactly(2L);
        assertThat(firsts).as("exactly one publish appended").isEqualTo(1);
        assertThat(metrics.get("switchboard.publish.replays").counter().count()).isEqualTo(31);
        assertThat(publish("idem", "after").offset()).isEqualTo(3);

        PublishResult otherTopic = broker.append("idem2", "text/plain", text("x"), "the-key").join();
        assertThat(otherTopic.replayed()).as("keys are per topic").isFalse();
    }

    @Test
    void refusedPublishesStoreNothing() {
        open();
        publish("strict", "ok");
        byte[] tooBig = new byte[Limits.defaults().maxMessageBytes() + 1];
        assertThatThrownBy(() -> broker.append("strict", "text/plain", tooBig, null))
                .satisfies(e -> assertCode(e, ErrorCode.PAYLOAD_TOO_LARGE));
        assertThatThrownBy(() -> broker.append("strict", "x".repeat(256), text("x"), null))
                .satisfies(e -> assertCode(e, ErrorCode.INVALID_TYPE));
        assertThatThrownBy(() -> broker.append("strict", "text/plain", text("x"), ""))
                .satisfies(e -> assertCode(e, ErrorCode.INVALID_IDEMPOTENCY_KEY));
        assertThatThrownBy(() -> broker.append("strict", "text/plain", text("x"), "k".repeat(256)))
                .satisfies(e -> assertCode(e, ErrorCode.INVALID_IDEMPOTENCY_KEY));
        assertThatThrownBy(() -> broker.append("bad..name", "text/plain", text("x"), null))
                .satisfies(e -> assertCode(e, ErrorCode.INVALID_TOPIC));
        assertThat(broker.state("strict").orElseThrow().lastOffset()).isEqualTo(1);
        assertThat(broker.topics()).extracting(TopicState::name).containsExactly("strict");
    }

    @Test
    void aLongPollIsAnsweredByTheNextPublish() throws Exception {
        open();
        publish("lp", "first");
        CompletableFuture<ReadResult> held = delivery.poll("lp", StartPosition.NEXT, 10, Duration.ofSeconds(30), timer);
        assertThat(held).isNotDone();
        publish("lp", "second");
        ReadResult r = held.get(10, TimeUnit.SECONDS);
        assertThat(r.messages()).extracting(Message::offset).containsExactly(2L);
    }
}
