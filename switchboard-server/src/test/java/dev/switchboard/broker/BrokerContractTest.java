package dev.switchboard.broker;

import static dev.switchboard.broker.Answers.assertAnswered;
import static dev.switchboard.broker.Answers.failureOf;
import static dev.switchboard.broker.Answers.refusal;
import static dev.switchboard.broker.Answers.value;
import static dev.switchboard.broker.Payloads.bytes;
import static dev.switchboard.broker.Payloads.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.config.Limits;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.LongStream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The engine contract ({@link Broker}, docs/architecture.md "The engine contract"), checked through the interface
 * only, so that every engine passes the same tests: extend this class with one that opens the engine under test.
 */
@Timeout(120)
public abstract class BrokerContractTest {
    private static final String TEXT = "text/plain";

    /** The engine under test, as the last {@link #open} or {@link #restart} returned it; closed after each test. */
    protected Broker broker;
    private final ExecutorService pool = Executors.newCachedThreadPool();

    /** Opens the engine under test on fresh, empty storage with these limits and this retention for new topics. */
    protected abstract Broker open(Limits limits, Retention defaultRetention);

    /**
     * Closes the engine the last {@link #open} (or restart) returned, if it is still open, and opens it again with
     * the same settings on the same storage.
     */
    protected abstract Broker restart();

    private Broker open() {
        return broker = open(Limits.defaults(), Retention.UNLIMITED);
    }

    @AfterEach
    void closeEngine() throws InterruptedException {
        pool.shutdownNow();
        assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        if (broker != null) {
            broker.close();
        }
    }

    // ---- helpers ----

    private static List<Long> range(long first, long last) {
        return LongStream.rangeClosed(first, last).boxed().toList();
    }

    private PublishResult append(String topic, String payload) {
        return value(broker.append(topic, TEXT, bytes(payload), null));
    }

    private PublishResult append(String topic, String payload, String key) {
        return value(broker.append(topic, TEXT, bytes(payload), key));
    }

    private List<Message> read(String topic, long from, int maxCount, long maxBytes) {
        return value(broker.read(topic, from, maxCount, maxBytes));
    }

    /** Every retained message of a topic from {@code from} on. */
    private List<Message> readAll(String topic, long from) {
        List<Message> all = new ArrayList<>();
        long next = from;
        while (true) {
            List<Message> batch = read(topic, next, 1000, Long.MAX_VALUE);
            if (batch.isEmpty()) {
                return all;
            }
            all.addAll(batch);
            next = batch.getLast().offset() + 1;
        }
    }

    private List<Long> offsetsOf(String topic) {
        return readAll(topic, 1).stream().map(Message::offset).toList();
    }

    private List<String> payloadsOf(String topic) {
        return readAll(topic, 1).stream().map(Payloads::text).toList();
    }

    private TopicState state(String topic) {
        return broker.state(topic).orElseThrow(() -> new AssertionError("no topic " + topic));
    }

    private void submit(TestTransaction tx) {
        broker.submit(tx);
    }

    /** Submits a transaction of {@code body} and waits until it is committed. */
    private TestTransaction commit(Consumer<Transaction.Stage> body) {
        TestTransaction tx = new TestTransaction(body);
        submit(tx);
        value(tx.outcome());
        return tx;
    }

    /** Two messages on a topic, the first with the idempotency key {@code k}; returns the topic's epoch. */
    private long twoMessagesOn(String topic) {
        append(topic, "one", "k");
        append(topic, "two");
        return state(topic).epoch();
    }

    /** The results of {@code call} made by {@code callers} threads that all start at once. */
    private <T> List<T> atOnce(int callers, Callable<T> call) throws Exception {
        CountDownLatch go = new CountDownLatch(1);
        List<Future<T>> calls = new ArrayList<>();
        for (int i = 0; i < callers; i++) {
            calls.add(pool.submit(() -> {
                go.await();
                return call.call();
            }));
        }
        go.countDown();
        List<T> results = new ArrayList<>();
        for (Future<T> f : calls) {
            results.add(f.get(30, TimeUnit.SECONDS));
        }
        return results;
    }

    private static void assertRefused(Supplier<? extends CompletableFuture<?>> call, ErrorCode code) {
        assertThat(refusal(call).code()).isEqualTo(code);
    }

    private static void assertRefused(CompletableFuture<?> outcome, ErrorCode code) {
        assertThat(refusal(outcome).code()).isEqualTo(code);
    }

    private void awaitFirstOffset(String topic, long first) {
        Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> state(topic).firstOffset() == first);
    }

    private void awaitHeard(RecordingWatcher w, String event) {
        Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> w.events().contains(event));
    }

    // ---- offsets and order ----

    @Test
    void concurrentAppendersGetContiguousOffsetsFromOneEachInItsOwnOrder() throws Exception {
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
                    // Pipelined: many appends of one caller are in flight at once.
                    mine.add(broker.append("shared", TEXT, bytes(producer + ":" + i), null));
                }
                return mine.stream().map(Answers::value).toList();
            }));
        }
        go.countDown();
        Map<Long, String> sent = new ConcurrentHashMap<>();
        for (int p = 0; p < threads; p++) {
            List<PublishResult> results = producers.get(p).get(60, TimeUnit.SECONDS);
            assertThat(results).extracting(PublishResult::offset).as("caller %d's offsets follow its order", p)
                    .isSorted().doesNotHaveDuplicates();
            for (int i = 0; i < each; i++) {
                assertThat(results.get(i).topic()).isEqualTo("shared");
                assertThat(results.get(i).replayed()).isFalse();
                assertThat(sent.put(results.get(i).offset(), p + ":" + i)).as("offset reused").isNull();
            }
        }
        int total = threads * each;
        assertThat(sent.keySet()).containsExactlyInAnyOrderElementsOf(range(1, total));
        List<Message> stored = readAll("shared", 1);
        assertThat(stored).extracting(Message::offset).containsExactlyElementsOf(range(1, total));
        for (Message m : stored) {
            assertThat(text(m)).isEqualTo(sent.get(m.offset()));
        }
        TopicState state = state("shared");
        assertThat(state.firstOffset()).isEqualTo(1);
        assertThat(state.lastOffset()).isEqualTo(total);
        assertThat(state.messages()).isEqualTo(total);
    }

    @Test
    void concurrentAppendsToManyTopicsNumberEachTopicFromOne() throws Exception {
        open();
        int topics = 8;
        int each = 200;
        List<Future<?>> producers = new ArrayList<>();
        for (int p = 0; p < 8; p++) {
            producers.add(pool.submit(() -> {
                List<CompletableFuture<PublishResult>> fs = new ArrayList<>();
                for (int i = 0; i < each; i++) {
                    for (int t = 0; t < topics; t++) {
                        fs.add(broker.append("multi." + t, TEXT, bytes("x"), null));
                    }
                }
                fs.forEach(Answers::value);
                return null;
            }));
        }
        for (Future<?> f : producers) {
            f.get(60, TimeUnit.SECONDS);
        }
        for (int t = 0; t < topics; t++) {
            assertThat(offsetsOf("multi." + t)).containsExactlyElementsOf(range(1, 8L * each));
        }
        assertThat(broker.topics()).extracting(TopicState::name)
                .containsExactly("multi.0", "multi.1", "multi.2", "multi.3", "multi.4", "multi.5", "multi.6",
                        "multi.7");
        assertThat(broker.topicCount()).isEqualTo(topics);
    }

    @Test
    void anAppendIsReadableAsStoredWhenItCompletes() {
        open();
        long before = System.currentTimeMillis();
        PublishResult r = value(broker.append("fresh", "application/json", bytes("{\"n\":1}"), null));
        assertThat(r).isEqualTo(new PublishResult("fresh", 1, r.time(), false));
        assertThat(r.time()).isBetween(before, System.currentTimeMillis());
        List<Message> read = read("fresh", 1, 10, Long.MAX_VALUE);
        assertThat(read).hasSize(1);
        Message m = read.getFirst();
        assertThat(m.topic()).isEqualTo("fresh");
        assertThat(m.offset()).isEqualTo(1);
        assertThat(m.time()).isEqualTo(r.time());
        assertThat(m.type()).isEqualTo("application/json");
        assertThat(text(m)).isEqualTo("{\"n\":1}");
        assertThat(append("fresh", "two").offset()).isEqualTo(2);
        assertThat(read("fresh", 2, 10, Long.MAX_VALUE)).extracting(Payloads::text).containsExactly("two");
    }

    // ---- idempotency ----

    @Test
    void anIdempotencyKeyReturnsTheFirstOffsetAndStoresNothingMore() {
        open();
        append("idem", "filler");
        PublishResult first = append("idem", "original", "k1");
        assertThat(first.offset()).isEqualTo(2);
        assertThat(first.replayed()).isFalse();
        PublishResult retry = append("idem", "a different body", "k1");
        assertThat(retry.offset()).isEqualTo(2);
        assertThat(retry.time()).isEqualTo(first.time());
        assertThat(retry.replayed()).isTrue();
        assertThat(append("idem", "next").offset()).isEqualTo(3);
        assertThat(payloadsOf("idem")).containsExactly("filler", "original", "next");
    }

    @Test
    void anIdempotencyKeyAppendsOnceEvenWhenRetriedConcurrently() throws Exception {
        open();
        append("idem", "filler");
        Set<Long> offsets = new HashSet<>();
        int firsts = 0;
        for (PublishResult r : atOnce(32, () -> append("idem", "once", "the-key"))) {
            offsets.add(r.offset());
            firsts += r.replayed() ? 0 : 1;
        }
        assertThat(offsets).containsExactly(2L);
        assertThat(firsts).as("exactly one append stored the message").isEqualTo(1);
        assertThat(append("idem", "after").offset()).isEqualTo(3);
        assertThat(payloadsOf("idem")).containsExactly("filler", "once", "after");
    }

    @Test
    void idempotencyKeysArePerTopic() {
        open();
        append("keys.a", "a1", "shared-key");
        append("keys.b", "b1");
        PublishResult other = append("keys.b", "b2", "shared-key");
        assertThat(other.offset()).isEqualTo(2);
        assertThat(other.replayed()).as("a key of another topic").isFalse();
        assertThat(payloadsOf("keys.b")).containsExactly("b1", "b2");
    }

    @Test
    void aDeletedTopicStartsAgainAtOffsetOneWithoutItsMessagesOrKeys() {
        open();
        for (int i = 1; i <= 3; i++) {
            append("gone", "old" + i, "key-" + i);
        }
        assertThat(value(broker.delete("gone"))).isTrue();
        assertThat(broker.state("gone")).isEmpty();
        assertThat(broker.topics()).extracting(TopicState::name).doesNotContain("gone");
        assertThat(broker.topicCount()).isZero();
        assertThat(read("gone", 1, 10, Long.MAX_VALUE)).isEmpty();
        assertThat(value(broker.delete("gone"))).as("nothing left to delete").isFalse();

        PublishResult again = append("gone", "new", "key-3");
        assertThat(again.offset()).isEqualTo(1);
        assertThat(again.replayed()).as("the old topic's idempotency keys went with it").isFalse();
        assertThat(payloadsOf("gone")).containsExactly("new");
    }

    // ---- batches ----

    private BatchResult appendBatch(String topic, String key, String... payloads) {
        return value(broker.appendBatch(topic, TEXT, texts(payloads), key));
    }

    private static List<byte[]> texts(String... payloads) {
        return Arrays.stream(payloads).map(Payloads::bytes).toList();
    }

    @Test
    void aBatchGetsContiguousOffsetsInItsOrderAndIsHeardAsOneCommit() {
        open();
        RecordingWatcher w = RecordingWatcher.watching(broker, "batch");
        append("batch", "before");
        long before = System.currentTimeMillis();
        BatchResult r = appendBatch("batch", null, "b1", "b2", "b3");
        assertThat(r).isEqualTo(new BatchResult("batch", 2, 4, r.time(), false));
        assertThat(r.count()).isEqualTo(3);
        assertThat(r.time()).isBetween(before, System.currentTimeMillis());

        List<Message> stored = read("batch", 2, 10, Long.MAX_VALUE);
        assertThat(stored).extracting(Message::offset).containsExactly(2L, 3L, 4L);
        assertThat(stored).extracting(Payloads::text).containsExactly("b1", "b2", "b3");
        assertThat(stored).extracting(Message::time).containsOnly(r.time());
        assertThat(stored).extracting(Message::type).containsOnly(TEXT);
        assertThat(state("batch").lastOffset()).isEqualTo(4);
        assertThat(state("batch").messages()).isEqualTo(4);
        assertThat(append("batch", "after").offset()).isEqualTo(5);

        Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> w.count("committed") == 3);
        assertThat(w.events()).containsExactly("appended 1", "committed", "appended 2", "appended 3", "appended 4",
                "committed", "appended 5", "committed");
        w.assertEveryChangeWasReadableWhenHeard();
    }

    /** A caller's batches, in the order it sent them. */
    private record BatchesOf(int caller, List<BatchResult> batches) {}

    @Test
    void concurrentBatchesAndAppendsNeverLandInsideABatch() throws Exception {
        open();
        int callers = 4;
        int batches = 25;
        int size = 4;
        AtomicInteger callerIds = new AtomicInteger();
        List<BatchesOf> sent = atOnce(callers, () -> {
            int caller = callerIds.getAndIncrement();
            List<CompletableFuture<BatchResult>> mine = new ArrayList<>();
            List<CompletableFuture<PublishResult>> singles = new ArrayList<>();
            for (int b = 0; b < batches; b++) {
                List<byte[]> payloads = new ArrayList<>();
                for (int i = 0; i < size; i++) {
                    payloads.add(bytes("batch " + caller + "/" + b + "/" + i));
                }
                // Pipelined: batches and single appends of every caller are in flight at once.
                mine.add(broker.appendBatch("mixed", TEXT, payloads, null));
                singles.add(broker.append("mixed", TEXT, bytes("single " + caller + "/" + b), null));
            }
            singles.forEach(Answers::value);
            return new BatchesOf(caller, mine.stream().map(Answers::value).toList());
        });
        List<String> stored = payloadsOf("mixed");
        assertThat(offsetsOf("mixed")).containsExactlyElementsOf(range(1, (long) callers * batches * (size + 1)));
        for (BatchesOf caller : sent) {
            assertThat(caller.batches()).extracting(BatchResult::firstOffset)
                    .as("caller %d's batches keep its order", caller.caller()).isSorted();
            for (int b = 0; b < batches; b++) {
                BatchResult r = caller.batches().get(b);
                assertThat(r.count()).isEqualTo(size);
                for (int i = 0; i < size; i++) {
                    assertThat(stored.get((int) r.firstOffset() - 1 + i)).as("offset %d", r.firstOffset() + i)
                            .isEqualTo("batch " + caller.caller() + "/" + b + "/" + i);
                }
            }
        }
    }

    @Test
    void aBatchsIdempotencyKeyReturnsItsRangeAndStoresNothingMoreEvenAfterARestart() {
        open();
        append("idem", "filler");
        BatchResult first = appendBatch("idem", "order-1", "a", "b", "c");
        assertThat(first).isEqualTo(new BatchResult("idem", 2, 4, first.time(), false));
        BatchResult retry = appendBatch("idem", "order-1", "other", "payloads");
        assertThat(retry).isEqualTo(new BatchResult("idem", 2, 4, first.time(), true));

        PublishResult single = append("idem", "single", "order-1");
        assertThat(single).as("keys are shared with single appends: the batch's first offset")
                .isEqualTo(new PublishResult("idem", 2, first.time(), true));
        PublishResult one = append("idem", "one", "order-2");
        assertThat(appendBatch("idem", "order-2", "x", "y")).as("a single append's key, seen by a batch")
                .isEqualTo(new BatchResult("idem", 5, 5, one.time(), true));

        broker = restart();
        assertThat(appendBatch("idem", "order-1", "again")).as("kept across a restart")
                .isEqualTo(new BatchResult("idem", 2, 4, first.time(), true));
        assertThat(payloadsOf("idem")).containsExactly("filler", "a", "b", "c", "one");
    }

    @Test
    void aBatchsIdempotencyKeyStoresItOnceEvenWhenRetriedConcurrently() throws Exception {
        open();
        append("idem", "filler");
        int firsts = 0;
        for (BatchResult r : atOnce(32, () -> appendBatch("idem", "the-key", "once-1", "once-2"))) {
            assertThat(List.of(r.firstOffset(), r.lastOffset())).containsExactly(2L, 3L);
            firsts += r.replayed() ? 0 : 1;
        }
        assertThat(firsts).as("exactly one batch stored its messages").isEqualTo(1);
        assertThat(payloadsOf("idem")).containsExactly("filler", "once-1", "once-2");
    }

    @Test
    void aRefusedBatchStoresNothingOfIt() {
        broker = open(Limits.defaults().withMaxMessageBytes(1000).withMaxBatchMessages(3), Retention.UNLIMITED);
        append("strict", "ok");
        String tooLongType = "x".repeat(AppendRules.MAX_TYPE_LENGTH + 1);
        Map<ErrorCode, Supplier<CompletableFuture<BatchResult>>> refused = Map.of(
                ErrorCode.INVALID_JSON, () -> broker.appendBatch("strict", TEXT, List.of(), null),
                ErrorCode.PAYLOAD_TOO_LARGE, () -> broker.appendBatch("strict", TEXT,
                        List.of(bytes("fits"), new byte[1001]), null),
                ErrorCode.INVALID_TYPE, () -> broker.appendBatch("strict", tooLongType, texts("x"), null),
                ErrorCode.INVALID_IDEMPOTENCY_KEY, () -> broker.appendBatch("strict", TEXT, texts("x"), ""),
                ErrorCode.RESERVED_TOPIC, () -> broker.appendBatch("_strict", TEXT, texts("x"), null),
                ErrorCode.INVALID_TOPIC, () -> broker.appendBatch("strict..b", TEXT, texts("x"), null));
        refused.forEach((code, call) -> assertRefused(call, code));
        assertRefused(() -> broker.appendBatch("strict", TEXT, texts("1", "2", "3", "4"), null),
                ErrorCode.PAYLOAD_TOO_LARGE);
        assertNothingStoredBesides("strict");

        BatchResult atTheLimits = value(broker.appendBatch("strict", TEXT,
                List.of(new byte[1000], new byte[1000], new byte[1000]), null));
        assertThat(List.of(atTheLimits.firstOffset(), atTheLimits.lastOffset())).containsExactly(2L, 4L);
    }

    // ---- reads ----

    @Test
    void aReadReturnsARangeBoundedByCountAndBytes() {
        open();
        for (int i = 1; i <= 10; i++) {
            append("range", "payload-%02d".formatted(i)); // 10 bytes each
        }
        assertThat(read("range", 1, 3, Long.MAX_VALUE)).extracting(Message::offset).containsExactly(1L, 2L, 3L);
        assertThat(read("range", 4, 100, Long.MAX_VALUE)).extracting(Message::offset)
                .containsExactlyElementsOf(range(4, 10));
        assertThat(read("range", 7, 2, Long.MAX_VALUE)).extracting(Payloads::text)
                .containsExactly("payload-07", "payload-08");
        assertThat(read("range", 5, 100, 20)).as("stops once 20 bytes are read").extracting(Message::offset)
                .containsExactly(5L, 6L);
        assertThat(read("range", 5, 100, 25)).as("the message that passes the bound is the last")
                .extracting(Message::offset).containsExactly(5L, 6L, 7L);
        assertThat(read("range", 5, 100, 1)).as("at least one message").extracting(Message::offset)
                .containsExactly(5L);
        assertThat(read("range", 10, 100, Long.MAX_VALUE)).extracting(Message::offset).containsExactly(10L);
        assertThat(read("range", 11, 100, Long.MAX_VALUE)).as("just past the end").isEmpty();
        assertThat(read("range", 1_000_000, 100, Long.MAX_VALUE)).as("far past the end").isEmpty();
        assertThat(read("no-such-topic", 1, 100, Long.MAX_VALUE)).as("an unknown topic").isEmpty();
    }

    // ---- state and topics ----

    @Test
    void stateReportsPositionsBytesCreationAndTheDefaultRetention() {
        Retention defaults = new Retention(1000L, Duration.ofDays(7), 1_000_000L);
        broker = open(Limits.defaults(), defaults);
        assertThat(broker.state("s")).isEmpty();
        long before = System.currentTimeMillis();
        append("s", "one");
        append("s", "three");
        append("s", "five5");
        long after = System.currentTimeMillis();
        TopicState s = state("s");
        assertThat(s.name()).isEqualTo("s");
        assertThat(s.firstOffset()).isEqualTo(1);
        assertThat(s.lastOffset()).isEqualTo(3);
        assertThat(s.messages()).isEqualTo(3);
        assertThat(s.bytes()).isEqualTo(3 + 5 + 5);
        assertThat(s.created()).isBetween(before, after);
        assertThat(s.retention()).isEqualTo(defaults);
        assertThat(broker.state("s")).contains(s);
        assertThat(value(broker.stateAsync("s"))).as("without blocking, the same").contains(s);
        assertThat(value(broker.stateAsync("none"))).isEmpty();

        Retention own = new Retention(5L, null, null);
        TopicState changed = value(broker.setRetention("s", own));
        assertThat(changed).isEqualTo(new TopicState("s", s.epoch(), 1, 3, 13, s.created(), own));
        assertThat(state("s")).isEqualTo(changed);
    }

    @Test
    void topicsListsEveryTopicByNameReservedOnesIncluded() {
        open();
        append("b", "1");
        append("a", "1");
        value(broker.setRetention("c", new Retention(3L, null, null)));
        commit(s -> s.append("_jobs.j1", TEXT, bytes("created")));
        assertThat(broker.topics()).extracting(TopicState::name).containsExactly("_jobs.j1", "a", "b", "c");
        assertThat(broker.topics()).containsExactly(state("_jobs.j1"), state("a"), state("b"), state("c"));
        assertThat(broker.topicCount()).isEqualTo(4);
        assertThat(value(broker.topicsAsync())).as("without blocking, the same").isEqualTo(broker.topics());
    }

    @Test
    void settingRetentionCreatesAnEmptyTopic() {
        open();
        Retention r = new Retention(10L, null, null);
        TopicState created = value(broker.setRetention("empty", r));
        assertThat(created.name()).isEqualTo("empty");
        assertThat(created.messages()).isZero();
        assertThat(created.lastOffset()).isZero();
        assertThat(created.bytes()).isZero();
        assertThat(created.retention()).isEqualTo(r);
        assertThat(broker.state("empty")).contains(created);
        assertThat(read("empty", 1, 10, Long.MAX_VALUE)).isEmpty();
        assertThat(append("empty", "first").offset()).isEqualTo(1);
        assertThat(state("empty").epoch()).isEqualTo(created.epoch());
    }

    @Test
    void theEpochChangesWhenATopicIsDeletedAndCreatedAgainAndOnlyThen() {
        open();
        append("e", "1");
        long epoch = state("e").epoch();
        append("e", "2");
        value(broker.setRetention("e", new Retention(1L, null, null)));
        assertThat(state("e").epoch()).as("appends and retention keep the epoch").isEqualTo(epoch);

        assertThat(value(broker.delete("e"))).isTrue();
        append("e", "again");
        TopicState again = state("e");
        assertThat(again.epoch()).as("a new topic of the same name").isNotEqualTo(epoch);
        assertThat(again.lastOffset()).isEqualTo(1);
        assertThat(again.retention()).as("the new topic has the default retention").isEqualTo(Retention.UNLIMITED);

        broker = restart();
        assertThat(state("e").epoch()).as("a restart keeps the epoch").isEqualTo(again.epoch());
    }

    @Test
    void headersAreStoredWithTheirMessageAndReadAndHeardWithIt() {
        open();
        RecordingWatcher w = RecordingWatcher.watching(broker, "with-headers");
        Map<String, List<String>> headers = new LinkedHashMap<>();
        headers.put("Trace-Id", List.of("abc"));
        headers.put("Tag", List.of("one", "two: three"));
        long offset = value(broker.append("with-headers", TEXT, bytes("payload"), headers, null)).offset();
        append("with-headers", "plain");
        List<Message> read = read("with-headers", 1, 10, Long.MAX_VALUE);
        assertThat(read.get(0).offset()).isEqualTo(offset);
        assertThat(read.get(0).headers()).isEqualTo(headers);
        assertThat(new String(read.get(0).payload(), StandardCharsets.UTF_8)).isEqualTo("payload");
        assertThat(read.get(1).headers()).isEmpty();
        awaitHeard(w, "committed");
        Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> w.messages().size() == 2);
        assertThat(w.messages().getFirst().headers()).isEqualTo(headers);
        assertThat(state("with-headers").bytes()).isEqualTo("payload".length() + "plain".length());

        broker = restart();
        assertThat(read("with-headers", 1, 10, Long.MAX_VALUE).getFirst().headers()).isEqualTo(headers);
    }

    @Test
    void aBatchsHeadersAreOnEveryMessageAndHeadersEitherAppendRefusesStoreNothing() {
        broker = open(Limits.defaults().withMaxMessageBytes(1000), Retention.UNLIMITED);
        append("strict", "ok");
        Map<String, List<String>> headers = Map.of("Source", List.of("import-3"));
        BatchResult batch = value(broker.appendBatch("strict", TEXT, texts("a", "b"), headers, null));
        assertThat(List.of(batch.firstOffset(), batch.lastOffset())).containsExactly(2L, 3L);
        assertThat(read("strict", 1, 10, Long.MAX_VALUE)).extracting(Message::headers)
                .containsExactly(Map.of(), headers, headers);

        Map<String, List<String>> badName = Map.of("a b", List.of("v"));
        Map<String, List<String>> badValue = Map.of("T", List.of("line\nbreak"));
        assertRefused(() -> broker.append("strict", TEXT, bytes("x"), badName, null), ErrorCode.INVALID_HEADERS);
        assertRefused(() -> broker.append("strict", TEXT, bytes("x"), badValue, null), ErrorCode.INVALID_HEADERS);
        assertRefused(() -> broker.appendBatch("strict", TEXT, texts("x"), badName, null), ErrorCode.INVALID_HEADERS);
        // headers count against each message's size: 999 payload bytes fit alone, not with a header
        assertRefused(() -> broker.appendBatch("strict", TEXT, List.of(new byte[999]), headers, null),
                ErrorCode.PAYLOAD_TOO_LARGE);
        assertRefused(() -> broker.append("strict", TEXT, new byte[999], headers, null), ErrorCode.PAYLOAD_TOO_LARGE);
        assertThat(offsetsOf("strict")).containsExactly(1L, 2L, 3L);
        assertThat(broker.topics()).extracting(TopicState::name).containsExactly("strict");
    }

    @Test
    void creationListenersHearEachTopicCreatedOnceItIsReadableAndNotItsLaterChanges() {
        open();
        append("before", "1");
        List<String> heard = new CopyOnWriteArrayList<>();
        List<String> unreadable = new CopyOnWriteArrayList<>();
        Broker.Watch watch = broker.watchCreations(name -> {
            heard.add(name);
            if (broker.state(name).isEmpty()) {
                unreadable.add(name);
            }
        });
        append("before", "2");
        append("fresh", "1");
        append("fresh", "2");
        value(broker.setRetention("empty", new Retention(3L, null, null)));
        commit(s -> s.append("_jobs.created", TEXT, bytes("x")));
        value(broker.delete("fresh"));
        append("fresh", "again");
        Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> heard.size() >= 4);
        append("last", "1");
        Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> heard.contains("last"));
        assertThat(heard).containsExactly("fresh", "empty", "_jobs.created", "fresh", "last");
        assertThat(unreadable).isEmpty();

        watch.cancel();
        List<String> stillListening = new CopyOnWriteArrayList<>();
        Broker.Watch other = broker.watchCreations(stillListening::add);
        append("after-cancel", "1");
        Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> stillListening.contains("after-cancel"));
        assertThat(heard).doesNotContain("after-cancel");
        other.cancel();
    }

    // ---- retention ----

    @Test
    void retentionByCountDropsTheOldestAndReadsStartLater() {
        open();
        value(broker.setRetention("count", new Retention(5L, null, null)));
        RecordingWatcher w = RecordingWatcher.watching(broker, "count");
        for (int i = 1; i <= 12; i++) {
            append("count", "m" + i);
        }
        awaitFirstOffset("count", 8);
        TopicState s = state("count");
        assertThat(s.lastOffset()).isEqualTo(12);
        assertThat(s.messages()).isEqualTo(5);
        assertThat(s.bytes()).isEqualTo(2 * 2 + 3 * 3);
        assertThat(read("count", 1, 100, Long.MAX_VALUE)).extracting(Message::offset)
                .containsExactly(8L, 9L, 10L, 11L, 12L);
        assertThat(read("count", 10, 100, Long.MAX_VALUE)).extracting(Message::offset)
                .containsExactly(10L, 11L, 12L);
        awaitHeard(w, "truncated 8");
        assertThat(w.events()).filteredOn(e -> e.startsWith("truncated")).as("the first offset only grows")
                .isSortedAccordingTo((a, b) -> Long.compare(Long.parseLong(a.substring(10)),
                        Long.parseLong(b.substring(10))));
        w.assertEveryChangeWasReadableWhenHeard();
    }

    @Test
    void retentionByBytesKeepsTheNewestWithinTheBound() {
        open();
        value(broker.setRetention("bytes", new Retention(null, null, 100L)));
        RecordingWatcher w = RecordingWatcher.watching(broker, "bytes");
        for (int i = 1; i <= 10; i++) {
            append("bytes", "x".repeat(30));
        }
        awaitFirstOffset("bytes", 8);
        assertThat(state("bytes").bytes()).isEqualTo(90);
        assertThat(read("bytes", 1, 100, Long.MAX_VALUE)).extracting(Message::offset).containsExactly(8L, 9L, 10L);
        awaitHeard(w, "truncated 8");
        w.assertEveryChangeWasReadableWhenHeard();
    }

    @Test
    void retentionByAgeDropsMessagesOnceTheyAreOlderThanTheBound() {
        open();
        value(broker.setRetention("age", new Retention(null, Duration.ofMillis(300), null)));
        RecordingWatcher w = RecordingWatcher.watching(broker, "age");
        for (int i = 1; i <= 3; i++) {
            append("age", "m" + i);
        }
        // Nothing is published after them: the engine drops them on its own once they are old.
        awaitFirstOffset("age", 4);
        TopicState s = state("age");
        assertThat(s.lastOffset()).as("offsets are never reused").isEqualTo(3);
        assertThat(s.messages()).isZero();
        assertThat(s.bytes()).isZero();
        assertThat(read("age", 1, 100, Long.MAX_VALUE)).isEmpty();
        awaitHeard(w, "truncated 4");
        assertThat(append("age", "fresh").offset()).isEqualTo(4);
        assertThat(read("age", 1, 100, Long.MAX_VALUE)).extracting(Payloads::text).containsExactly("fresh");
        w.assertEveryChangeWasReadableWhenHeard();
    }

    @Test
    void settingRetentionOnAFullTopicAppliesAtOnceAndWakesWatchers() {
        open();
        RecordingWatcher w = RecordingWatcher.watching(broker, "later");
        for (int i = 1; i <= 20; i++) {
            append("later", "m" + i);
        }
        awaitHeard(w, "appended 20");
        Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> w.count("committed") == 20);
        TopicState after = value(broker.setRetention("later", new Retention(3L, null, null)));
        assertThat(after.firstOffset()).isEqualTo(18);
        assertThat(after.lastOffset()).isEqualTo(20);
        assertThat(after.retention()).isEqualTo(new Retention(3L, null, null));
        assertThat(read("later", 1, 100, Long.MAX_VALUE)).extracting(Message::offset).containsExactly(18L, 19L, 20L);
        Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> w.events().size() == 42);
        assertThat(w.events().subList(40, 42)).containsExactly("truncated 18", "committed");
        w.assertEveryChangeWasReadableWhenHeard();
    }

    // ---- watchers ----

    @Test
    void watchersHearEveryMessageOnceInOffsetOrderOnlyOnceItIsReadable() throws Exception {
        open();
        RecordingWatcher first = RecordingWatcher.watching(broker, "watched");
        RecordingWatcher second = RecordingWatcher.watching(broker, "watched");
        int producers = 4;
        int each = 150;
        List<Future<?>> fs = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            int producer = p;
            fs.add(pool.submit(() -> {
                List<CompletableFuture<PublishResult>> mine = new ArrayList<>();
                for (int i = 0; i < each; i++) {
                    mine.add(broker.append("watched", TEXT, bytes(producer + ":" + i), null));
                }
                mine.forEach(Answers::value);
                return null;
            }));
        }
        for (Future<?> f : fs) {
            f.get(60, TimeUnit.SECONDS);
        }
        long total = (long) producers * each;
        List<Message> stored = readAll("watched", 1);
        for (RecordingWatcher w : List.of(first, second)) {
            Awaitility.await().atMost(Duration.ofSeconds(15))
                    .until(() -> w.offsets().size() >= total && w.events().getLast().equals("committed"));
            assertThat(w.offsets()).containsExactlyElementsOf(range(1, total));
            for (int i = 0; i < total; i++) {
                assertThat(text(w.messages().get(i))).isEqualTo(text(stored.get(i)));
            }
            List<String> events = w.events();
            assertThat(events.getFirst()).startsWith("appended");
            for (int i = 1; i < events.size(); i++) {
                if (events.get(i).equals("committed")) {
                    assertThat(events.get(i - 1)).as("a commit is announced once, after its messages")
                            .startsWith("appended");
                }
            }
            w.assertEveryChangeWasReadableWhenHeard();
        }
    }

    @Test
    void aCommitIsHeardAsItsMessagesInOrderThenCommittedOnce() {
        open();
        RecordingWatcher w = RecordingWatcher.watching(broker, "commits");
        commit(s -> {
            for (int i = 1; i <= 3; i++) {
                s.append("commits", TEXT, bytes("m" + i));
            }
        });
        awaitHeard(w, "committed");
        commit(s -> {
            s.append("commits", TEXT, bytes("m4"));
            s.append("commits", TEXT, bytes("m5"));
        });
        Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> w.count("committed") == 2);
        assertThat(w.events()).containsExactly("appended 1", "appended 2", "appended 3", "committed",
                "appended 4", "appended 5", "committed");
        assertThat(w.messages()).extracting(Payloads::text).containsExactly("m1", "m2", "m3", "m4", "m5");
        w.assertEveryChangeWasReadableWhenHeard();
    }

    @Test
    void aWatchOnATopicThatDoesNotExistYetHearsItsFirstMessage() {
        open();
        RecordingWatcher w = RecordingWatcher.watching(broker, "not.yet");
        assertThat(broker.state("not.yet")).isEmpty();
        append("not.yet", "hello");
        Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> w.events().contains("committed"));
        assertThat(w.events()).containsExactly("appended 1", "committed");
        assertThat(w.messages()).extracting(Payloads::text).containsExactly("hello");
        w.assertEveryChangeWasReadableWhenHeard();
    }

    @Test
    void aCancelledWatchHearsNothingMore() {
        open();
        RecordingWatcher cancelled = new RecordingWatcher(broker, "cancel");
        Broker.Watch watch = broker.watch("cancel", cancelled);
        append("cancel", "heard");
        awaitHeard(cancelled, "committed");
        watch.cancel();
        // A witness registered later hears the next change; a call to the cancelled one would have come before it.
        RecordingWatcher witness = RecordingWatcher.watching(broker, "cancel");
        append("cancel", "not heard");
        awaitHeard(witness, "committed");
        assertThat(witness.events()).containsExactly("appended 2", "committed");
        assertThat(cancelled.events()).containsExactly("appended 1", "committed");
        watch.cancel(); // cancelling twice is harmless
    }

    @Test
    void aDeletedTopicsWatchersHearDeletedOnceAndNothingAfter() {
        open();
        RecordingWatcher w = RecordingWatcher.watching(broker, "del");
        append("del", "one");
        assertThat(value(broker.delete("del"))).isTrue();
        awaitHeard(w, "deleted");
        assertThat(w.events()).containsExactly("appended 1", "committed", "deleted");
        assertThat(value(broker.delete("del"))).isFalse();

        RecordingWatcher witness = RecordingWatcher.watching(broker, "del");
        append("del", "the topic again");
        awaitHeard(witness, "committed");
        assertThat(witness.events()).containsExactly("appended 1", "committed");
        assertThat(w.events()).as("a deleted topic's watchers are dropped")
                .containsExactly("appended 1", "committed", "deleted");
        w.assertEveryChangeWasReadableWhenHeard();
    }

    // ---- transactions ----

    @Test
    protected void aTransactionsMessagesAndRecordsBecomeVisibleTogether() throws Exception {
        open();
        int transactions = 200;
        AtomicBoolean done = new AtomicBoolean();
        List<String> torn = Collections.synchronizedList(new ArrayList<>());
        // An observer reads the first topic, then the second topic and the record: whatever it saw of the first
        // must be there in the others too.
        Future<?> observer = pool.submit(() -> {
            while (!done.get()) {
                int seenA = readAll("atomic.a", 1).size();
                int seenB = readAll("atomic.b", 1).size();
                if (seenB < seenA) {
                    torn.add("atomic.a has " + seenA + " messages, atomic.b " + seenB);
                }
                if (seenA > 0 && value(broker.record("atomic/" + seenA)) == null) {
                    torn.add("atomic.a has " + seenA + " messages, record atomic/" + seenA + " is missing");
                }
            }
            return null;
        });
        List<TestTransaction> txs = new ArrayList<>();
        for (int i = 1; i <= transactions; i++) {
            String n = Integer.toString(i);
            TestTransaction tx = new TestTransaction(s -> {
                s.append("atomic.a", TEXT, bytes("a" + n));
                s.putRecord("atomic/" + n, bytes(n));
                s.append("atomic.b", TEXT, bytes("b" + n));
            });
            txs.add(tx);
            submit(tx);
        }
        for (TestTransaction tx : txs) {
            value(tx.outcome());
            assertThat(tx.calls()).containsExactly("stage", "durable", "committed");
        }
        done.set(true);
        observer.get(30, TimeUnit.SECONDS);
        assertThat(torn).isEmpty();
        assertThat(payloadsOf("atomic.a")).containsExactlyElementsOf(
                range(1, transactions).stream().map(i -> "a" + i).toList());
        assertThat(payloadsOf("atomic.b")).containsExactlyElementsOf(
                range(1, transactions).stream().map(i -> "b" + i).toList());
        assertThat(broker.recordsWithPrefix("atomic/")).hasSize(transactions);
    }

    @Test
    protected void aTransactionsChangesAreAllReadableWhenItIsAnnounced() {
        open();
        append("both.b", "before");
        List<CompletableFuture<String>> seenInCallbacks = new ArrayList<>();
        // A watcher of the first topic checks, while it is told of the message, the transaction's other changes.
        broker.watch("both.a", new TopicWatcher() {
            @Override
            public void appended(Message message) {
                seenInCallbacks.add(broker.read("both.b", 2, 10, Long.MAX_VALUE)
                        .thenApply(ms -> ms.isEmpty() ? "nothing" : text(ms.getFirst())));
                seenInCallbacks.add(broker.record("both/r").thenApply(Payloads::text));
            }

            @Override
            public void truncated(long firstOffset) {}

            @Override
            public void committed() {}

            @Override
            public void deleted() {}
        });
        AtomicReference<TopicState> stateOfBWhenCommitted = new AtomicReference<>();
        TestTransaction tx = new TestTransaction(s -> {
            s.append("both.a", TEXT, bytes("in a"));
            s.append("both.b", TEXT, bytes("in b"));
            s.putRecord("both/r", bytes("the record"));
        }) {
            @Override
            public void committed() {
                stateOfBWhenCommitted.set(broker.state("both.b").orElse(null));
                super.committed();
            }
        };
        submit(tx);
        value(tx.outcome());
        assertThat(stateOfBWhenCommitted.get().lastOffset()).isEqualTo(2);
        Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> seenInCallbacks.size() == 2);
        assertThat(seenInCallbacks).extracting(Answers::value).containsExactly("in b", "the record");
    }

    @Test
    protected void aTransactionRefusedByItsStageIsRefusedAloneAndTheRestOfItsCommitIsStored() {
        open();
        TestTransaction before;
        TestTransaction refused;
        TestTransaction after;
        CompletableFuture<PublishResult> plain;
        ApiException why = new ApiException(ErrorCode.JOB_FINISHED, "the job has finished");
        HeldTransaction held = HeldTransaction.holding(broker);
        try {
            // Queued behind the held transaction: staged together in the next commit.
            before = new TestTransaction(s -> {
                s.append("mixed", TEXT, bytes("before"));
                s.putRecord("mixed/before", bytes("1"));
            });
            refused = new TestTransaction(s -> {
                throw why; // by contract before staging anything
            });
            after = new TestTransaction(s -> {
                s.append("mixed", TEXT, bytes("after"));
                s.putRecord("mixed/after", bytes("2"));
            });
            submit(before);
            submit(refused);
            submit(after);
            plain = broker.append("mixed", TEXT, bytes("plain"), null);
        } finally {
            held.release();
        }
        value(before.outcome());
        value(after.outcome());
        assertThat(value(plain).offset()).isEqualTo(3);
        assertThat(failureOf(refused.outcome())).isSameAs(why);
        assertThat(refused.calls()).containsExactly("stage", "failed");
        assertThat(before.calls()).containsExactly("stage", "durable", "committed");
        assertThat(after.calls()).containsExactly("stage", "durable", "committed");
        assertThat(payloadsOf("mixed")).containsExactly("before", "after", "plain");
        assertThat(broker.recordsWithPrefix("mixed/")).extracting(Broker.Record::key)
                .containsExactly("mixed/after", "mixed/before");
    }

    @Test
    void recordsAreReadBackAndAStageSeesRecordsStagedBeforeItInTheSameCommit() {
        open();
        commit(s -> s.putRecord("r/0", bytes("stored earlier")));

        Map<String, String> seen = new ConcurrentHashMap<>();
        TestTransaction first;
        TestTransaction second;
        HeldTransaction held = HeldTransaction.holding(broker);
        try {
            first = new TestTransaction(s -> {
                s.putRecord("r/1", bytes("v1"));
                s.putRecord("r/2", bytes("v2"));
                s.putRecord("r/3", bytes("v3"));
            });
            second = new TestTransaction(s -> {
                seen.put("r/0", String.valueOf(text(s.record("r/0"))));
                seen.put("r/1", String.valueOf(text(s.record("r/1"))));
                s.deleteRecord("r/2");
                seen.put("r/2 after its deletion", String.valueOf(text(s.record("r/2"))));
                s.putRecord("r/1", bytes("v1 again"));
                seen.put("r/1 after its change", String.valueOf(text(s.record("r/1"))));
                seen.put("missing", String.valueOf(text(s.record("r/none"))));
            });
            submit(first);
            submit(second);
        } finally {
            held.release();
        }
        value(first.outcome());
        value(second.outcome());
        assertThat(seen).containsExactlyInAnyOrderEntriesOf(Map.of(
                "r/0", "stored earlier",
                "r/1", "v1",
                "r/2 after its deletion", "null",
                "r/1 after its change", "v1 again",
                "missing", "null"));
        assertThat(text(value(broker.record("r/1")))).isEqualTo("v1 again");
        assertThat(value(broker.record("r/2"))).isNull();
        assertThat(value(broker.record("r/none"))).isNull();
        assertThat(broker.recordsWithPrefix("r/")).extracting(r -> r.key() + "=" + text(r.value()))
                .containsExactly("r/0=stored earlier", "r/1=v1 again", "r/3=v3");
        assertThat(broker.recordsWithPrefix("r/1")).extracting(Broker.Record::key).containsExactly("r/1");
        assertThat(broker.recordsWithPrefix("s/")).isEmpty();
    }

    @Test
    protected void aTransactionDeletesATopicWithItsMessages() {
        open();
        RecordingWatcher w = RecordingWatcher.watching(broker, "doomed");
        long epoch = twoMessagesOn("doomed");
        commit(s -> {
            s.deleteTopic("doomed");
            s.deleteTopic("never.existed");
            s.putRecord("doomed/expired", bytes("yes"));
        });
        assertThat(broker.state("doomed")).isEmpty();
        assertThat(broker.topics()).isEmpty();
        assertThat(read("doomed", 1, 10, Long.MAX_VALUE)).isEmpty();
        assertThat(text(value(broker.record("doomed/expired")))).isEqualTo("yes");
        awaitHeard(w, "deleted");
        assertThat(w.events()).containsExactly("appended 1", "committed", "appended 2", "committed", "deleted");
        w.assertEveryChangeWasReadableWhenHeard();

        PublishResult again = append("doomed", "new", "k");
        assertThat(again.offset()).isEqualTo(1);
        assertThat(again.replayed()).isFalse();
        assertThat(state("doomed").epoch()).isNotEqualTo(epoch);
    }

    @Test
    void aTopicDeletedThenAppendedToInOneTransactionStartsAgainFromOne() {
        open();
        RecordingWatcher old = RecordingWatcher.watching(broker, "phoenix");
        long epoch = twoMessagesOn("phoenix");
        commit(s -> {
            s.deleteTopic("phoenix");
            s.append("phoenix", TEXT, bytes("reborn"));
        });
        TopicState reborn = state("phoenix");
        assertThat(reborn.epoch()).isNotEqualTo(epoch);
        assertThat(reborn.firstOffset()).isEqualTo(1);
        assertThat(reborn.lastOffset()).isEqualTo(1);
        assertThat(payloadsOf("phoenix")).containsExactly("reborn");
        awaitHeard(old, "deleted");
        assertThat(old.events()).containsExactly("appended 1", "committed", "appended 2", "committed", "deleted");

        RecordingWatcher w = RecordingWatcher.watching(broker, "phoenix");
        PublishResult next = append("phoenix", "after", "k");
        assertThat(next.offset()).isEqualTo(2);
        assertThat(next.replayed()).as("the old topic's keys are gone").isFalse();
        awaitHeard(w, "committed");
        assertThat(w.events()).containsExactly("appended 2", "committed");
        old.assertEveryChangeWasReadableWhenHeard();
        w.assertEveryChangeWasReadableWhenHeard();

        broker = restart();
        assertThat(state("phoenix")).isEqualTo(new TopicState("phoenix", reborn.epoch(), 1, 2, 11, reborn.created(),
                Retention.UNLIMITED));
        assertThat(payloadsOf("phoenix")).containsExactly("reborn", "after");
    }

    @Test
    protected void messagesAppendedThenDeletedInOneTransactionAreNeverSeen() {
        open();
        RecordingWatcher existing = RecordingWatcher.watching(broker, "existing");
        append("existing", "kept until deleted");
        RecordingWatcher brandNew = RecordingWatcher.watching(broker, "brand.new");
        commit(s -> {
            s.append("existing", TEXT, bytes("staged"));
            s.append("brand.new", TEXT, bytes("staged"));
            s.deleteTopic("existing");
            s.deleteTopic("brand.new");
            s.putRecord("kept", bytes("yes"));
        });
        assertThat(broker.topics()).isEmpty();
        assertThat(broker.topicCount()).isZero();
        assertThat(read("existing", 1, 10, Long.MAX_VALUE)).isEmpty();
        assertThat(read("brand.new", 1, 10, Long.MAX_VALUE)).isEmpty();
        assertThat(text(value(broker.record("kept")))).isEqualTo("yes");
        awaitHeard(existing, "deleted");
        assertThat(existing.events()).as("the staged message is never heard")
                .containsExactly("appended 1", "committed", "deleted");
        assertThat(append("brand.new", "first").offset()).isEqualTo(1);
        awaitHeard(brandNew, "committed");
        assertThat(brandNew.events()).as("a topic that never existed is not deleted")
                .containsExactly("appended 1", "committed");

        broker = restart();
        assertThat(broker.topics()).extracting(TopicState::name).containsExactly("brand.new");
        assertThat(payloadsOf("brand.new")).containsExactly("first");
    }

    // ---- restart ----

    @Test
    protected void everythingAcknowledgedSurvivesARestartAndOffsetsContinue() {
        open();
        for (int i = 1; i <= 50; i++) {
            append("durable.a", "a" + i, i % 10 == 0 ? "key-" + i : null);
        }
        value(broker.setRetention("durable.b", new Retention(5L, null, null)));
        for (int i = 1; i <= 8; i++) {
            append("durable.b", "b" + i);
        }
        awaitFirstOffset("durable.b", 4);
        commit(s -> {
            s.append("_jobs.r", TEXT, bytes("job event"));
            s.putRecord("job/r", bytes("job state"));
        });
        List<TopicState> before = broker.topics();

        broker = restart();

        assertThat(broker.topics()).as("positions, bytes, epochs, creation and retention").isEqualTo(before);
        assertThat(payloadsOf("durable.a")).containsExactlyElementsOf(
                range(1, 50).stream().map(i -> "a" + i).toList());
        assertThat(offsetsOf("durable.b")).containsExactly(4L, 5L, 6L, 7L, 8L);
        assertThat(payloadsOf("_jobs.r")).containsExactly("job event");
        assertThat(text(value(broker.record("job/r")))).isEqualTo("job state");
        assertThat(broker.recordsWithPrefix("job/")).extracting(Broker.Record::key).containsExactly("job/r");

        PublishResult replay = append("durable.a", "retried", "key-30");
        assertThat(replay.offset()).as("idempotency keys survive").isEqualTo(30);
        assertThat(replay.replayed()).isTrue();
        assertThat(append("durable.a", "a51").offset()).isEqualTo(51);
        assertThat(append("durable.b", "b9").offset()).isEqualTo(9);
        awaitFirstOffset("durable.b", 5);

        RecordingWatcher w = RecordingWatcher.watching(broker, "durable.a");
        append("durable.a", "a52");
        awaitHeard(w, "committed");
        assertThat(w.events()).containsExactly("appended 52", "committed");
    }

    // ---- refusals: each is refused with its code and stores nothing ----

    /** Refused input changes nothing: the topic keeps its one message and no other topic appears. */
    private void assertNothingStoredBesides(String topic) {
        assertThat(offsetsOf(topic)).containsExactly(1L);
        assertThat(broker.topics()).extracting(TopicState::name).containsExactly(topic);
    }

    @Test
    void aMessageOverTheSizeLimitIsRefused() {
        broker = open(Limits.defaults().withMaxMessageBytes(1000), Retention.UNLIMITED);
        append("strict", "ok");
        assertRefused(() -> broker.append("strict", TEXT, new byte[1001], null), ErrorCode.PAYLOAD_TOO_LARGE);
        assertRefused(() -> broker.append("strict.other", TEXT, new byte[1001], null), ErrorCode.PAYLOAD_TOO_LARGE);
        assertNothingStoredBesides("strict");
        assertThat(value(broker.append("strict", TEXT, new byte[1000], null)).offset()).as("at the limit")
                .isEqualTo(2);
    }

    @Test
    void aContentTypeOverItsLengthIsRefused() {
        open();
        append("strict", "ok");
        assertRefused(() -> broker.append("strict", "x".repeat(AppendRules.MAX_TYPE_LENGTH + 1), bytes("x"), null),
                ErrorCode.INVALID_TYPE);
        assertNothingStoredBesides("strict");
    }

    @Test
    void anEmptyIdempotencyKeyIsRefused() {
        open();
        append("strict", "ok");
        assertRefused(() -> broker.append("strict", TEXT, bytes("x"), ""), ErrorCode.INVALID_IDEMPOTENCY_KEY);
        assertNothingStoredBesides("strict");
    }

    @Test
    void anIdempotencyKeyOverItsLengthIsRefused() {
        open();
        append("strict", "ok");
        int longest = Limits.defaults().maxIdempotencyKeyLength();
        assertRefused(() -> broker.append("strict", TEXT, bytes("x"), "k".repeat(longest + 1)),
                ErrorCode.INVALID_IDEMPOTENCY_KEY);
        assertNothingStoredBesides("strict");
        assertThat(append("strict", "x", "k".repeat(longest)).offset()).as("at the limit").isEqualTo(2);
    }

    @Test
    void invalidTopicNamesAreRefusedByEveryCall() {
        open();
        append("strict", "ok");
        for (String bad : List.of("bad..name", "", ".lead", "trail.", "a/b", "spa ce", "ü", "x".repeat(256))) {
            assertRefused(() -> broker.append(bad, TEXT, bytes("x"), null), ErrorCode.INVALID_TOPIC);
            assertRefused(() -> broker.setRetention(bad, Retention.UNLIMITED), ErrorCode.INVALID_TOPIC);
            assertRefused(() -> broker.delete(bad), ErrorCode.INVALID_TOPIC);
            assertThatThrownBy(() -> broker.watch(bad, new RecordingWatcher(broker, bad)))
                    .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.code())
                            .isEqualTo(ErrorCode.INVALID_TOPIC));
        }
        assertNothingStoredBesides("strict");
    }

    @Test
    void reservedTopicsCanBeReadButNotWrittenByCallers() {
        open();
        commit(s -> s.append("_jobs.j", TEXT, bytes("server's own")));
        TopicState before = state("_jobs.j");
        assertRefused(() -> broker.append("_jobs.j", TEXT, bytes("x"), null), ErrorCode.RESERVED_TOPIC);
        assertRefused(() -> broker.append("_new", TEXT, bytes("x"), null), ErrorCode.RESERVED_TOPIC);
        assertRefused(() -> broker.setRetention("_jobs.j", new Retention(1L, null, null)), ErrorCode.RESERVED_TOPIC);
        assertRefused(() -> broker.delete("_jobs.j"), ErrorCode.RESERVED_TOPIC);
        assertThat(state("_jobs.j")).isEqualTo(before);
        assertThat(payloadsOf("_jobs.j")).containsExactly("server's own");
        assertThat(broker.topics()).extracting(TopicState::name).containsExactly("_jobs.j");
    }

    @Test
    void theTopicLimitRefusesNewTopicsButNotExistingOnes() {
        broker = open(Limits.defaults().withMaxTopics(3), Retention.UNLIMITED);
        append("a", "1");
        append("b", "1");
        value(broker.setRetention("c", new Retention(10L, null, null)));

        assertRefused(() -> broker.append("d", TEXT, bytes("1"), null), ErrorCode.LIMIT_EXCEEDED);
        assertRefused(() -> broker.append("d", TEXT, bytes("1"), "key"), ErrorCode.LIMIT_EXCEEDED);
        assertRefused(() -> broker.appendBatch("d", TEXT, List.of(bytes("1")), null), ErrorCode.LIMIT_EXCEEDED);
        assertRefused(() -> broker.setRetention("d", Retention.UNLIMITED), ErrorCode.LIMIT_EXCEEDED);
        assertThat(broker.state("d")).isEmpty();
        assertThat(broker.topicCount()).isEqualTo(3);
        assertThat(broker.topics()).extracting(TopicState::name).containsExactly("a", "b", "c");

        assertThat(append("a", "2").offset()).as("existing topics still take appends").isEqualTo(2);
        assertThat(value(broker.setRetention("b", new Retention(1L, null, null))).retention().maxMessages())
                .isEqualTo(1L);
        assertThat(value(broker.delete("c"))).isTrue();
        assertThat(append("d", "1").offset()).as("room again after a delete").isEqualTo(1);
    }

    // ---- every future completes ----

    @Test
    void everyFutureCompletesWhenTheEngineClosesUnderLoadAndWhatWasAcknowledgedIsKept() throws Exception {
        open();
        Broker closing = broker;
        Map<String, CompletableFuture<PublishResult>> appends = new ConcurrentHashMap<>();
        CountDownLatch someStored = new CountDownLatch(1);
        List<Future<?>> producers = new ArrayList<>();
        for (int p = 0; p < 4; p++) {
            int producer = p;
            producers.add(pool.submit(() -> {
                for (int i = 0; i < 2000; i++) {
                    String payload = producer + ":" + i;
                    try {
                        CompletableFuture<PublishResult> f = closing.append("closing", TEXT, bytes(payload), null);
                        f.thenRun(someStored::countDown);
                        appends.put(payload, f);
                    } catch (ApiException e) {
                        assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE);
                    }
                }
                return null;
            }));
        }
        assertThat(someStored.await(30, TimeUnit.SECONDS)).isTrue();
        closing.close();
        for (Future<?> f : producers) {
            f.get(60, TimeUnit.SECONDS);
        }
        Map<Long, String> acknowledged = new ConcurrentHashMap<>();
        for (Map.Entry<String, CompletableFuture<PublishResult>> e : appends.entrySet()) {
            try {
                acknowledged.put(value(e.getValue()).offset(), e.getKey());
            } catch (ApiException refused) {
                assertThat(refused.code()).as("an append the closing engine did not store").isEqualTo(
                        ErrorCode.UNAVAILABLE);
            }
        }
        assertThat(acknowledged).isNotEmpty();
        assertRefused(() -> closing.append("closing", TEXT, bytes("late"), null), ErrorCode.UNAVAILABLE);
        TestTransaction late = new TestTransaction(s -> s.append("closing", TEXT, bytes("late")));
        try {
            closing.submit(late);
            assertRefused(late.outcome(), ErrorCode.UNAVAILABLE);
        } catch (ApiException e) {
            assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE);
        }
        assertAnswered(() -> closing.read("closing", 1, 10, Long.MAX_VALUE));
        assertAnswered(() -> closing.record("any"));

        broker = restart();
        List<Message> stored = readAll("closing", 1);
        assertThat(stored).extracting(Message::offset).as("offsets stay contiguous")
                .containsExactlyElementsOf(range(1, acknowledged.size()));
        for (Message m : stored) {
            assertThat(text(m)).isEqualTo(acknowledged.get(m.offset()));
        }
        assertThat(append("closing", "after").offset()).isEqualTo(acknowledged.size() + 1);
    }
}
