package dev.switchboard.broker;

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
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * The engine contract's appends (part of {@link BrokerContractTest}): what single appends and batches store, at which
 * offsets, once per idempotency key, and what they refuse without storing anything.
 */
interface AppendContract extends ContractFixture {

    // ---- offsets and order ----

    @Test
    default void concurrentAppendersGetContiguousOffsetsFromOneEachInItsOwnOrder() throws Exception {
        open();
        int threads = 16;
        int each = 250;
        CountDownLatch go = new CountDownLatch(1);
        List<Future<List<PublishResult>>> producers = new ArrayList<>();
        for (int p = 0; p < threads; p++) {
            int producer = p;
            producers.add(pool().submit(() -> {
                go.await();
                List<CompletableFuture<PublishResult>> mine = new ArrayList<>();
                for (int i = 0; i < each; i++) {
                    // Pipelined: many appends of one caller are in flight at once.
                    mine.add(broker().append("shared", TEXT, bytes(producer + ":" + i), null));
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
    default void concurrentAppendsToManyTopicsNumberEachTopicFromOne() throws Exception {
        open();
        int topics = 8;
        int each = 200;
        List<Future<?>> producers = new ArrayList<>();
        for (int p = 0; p < 8; p++) {
            producers.add(pool().submit(() -> {
                List<CompletableFuture<PublishResult>> fs = new ArrayList<>();
                for (int i = 0; i < each; i++) {
                    for (int t = 0; t < topics; t++) {
                        fs.add(broker().append("multi." + t, TEXT, bytes("x"), null));
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
        assertThat(broker().topics()).extracting(TopicState::name)
                .containsExactly("multi.0", "multi.1", "multi.2", "multi.3", "multi.4", "multi.5", "multi.6",
                        "multi.7");
        assertThat(broker().topicCount()).isEqualTo(topics);
    }

    @Test
    default void anAppendIsReadableAsStoredWhenItCompletes() {
        open();
        long before = System.currentTimeMillis();
        PublishResult r = value(broker().append("fresh", "application/json", bytes("{\"n\":1}"), null));
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
    default void anIdempotencyKeyReturnsTheFirstOffsetAndStoresNothingMore() {
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
    default void anIdempotencyKeyAppendsOnceEvenWhenRetriedConcurrently() throws Exception {
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
    default void idempotencyKeysArePerTopic() {
        open();
        append("keys.a", "a1", "shared-key");
        append("keys.b", "b1");
        PublishResult other = append("keys.b", "b2", "shared-key");
        assertThat(other.offset()).isEqualTo(2);
        assertThat(other.replayed()).as("a key of another topic").isFalse();
        assertThat(payloadsOf("keys.b")).containsExactly("b1", "b2");
    }

    @Test
    default void aDeletedTopicStartsAgainAtOffsetOneWithoutItsMessagesOrKeys() {
        open();
        for (int i = 1; i <= 3; i++) {
            append("gone", "old" + i, "key-" + i);
        }
        assertThat(value(broker().delete("gone"))).isTrue();
        assertThat(broker().state("gone")).isEmpty();
        assertThat(broker().topics()).extracting(TopicState::name).doesNotContain("gone");
        assertThat(broker().topicCount()).isZero();
        assertThat(read("gone", 1, 10, Long.MAX_VALUE)).isEmpty();
        assertThat(value(broker().delete("gone"))).as("nothing left to delete").isFalse();

        PublishResult again = append("gone", "new", "key-3");
        assertThat(again.offset()).isEqualTo(1);
        assertThat(again.replayed()).as("the old topic's idempotency keys went with it").isFalse();
        assertThat(payloadsOf("gone")).containsExactly("new");
    }

    // ---- batches ----

    private BatchResult appendBatch(String topic, String key, String... payloads) {
        return value(broker().appendBatch(topic, TEXT, texts(payloads), key));
    }

    @Test
    default void aBatchGetsContiguousOffsetsInItsOrderAndIsHeardAsOneCommit() {
        open();
        RecordingWatcher w = RecordingWatcher.watching(broker(), "batch");
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
    record BatchesOf(int caller, List<BatchResult> batches) {}

    @Test
    default void concurrentBatchesAndAppendsNeverLandInsideABatch() throws Exception {
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
                mine.add(broker().appendBatch("mixed", TEXT, payloads, null));
                singles.add(broker().append("mixed", TEXT, bytes("single " + caller + "/" + b), null));
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
    default void aBatchsIdempotencyKeyReturnsItsRangeAndStoresNothingMoreEvenAfterARestart() {
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

        reopen();
        assertThat(appendBatch("idem", "order-1", "again")).as("kept across a restart")
                .isEqualTo(new BatchResult("idem", 2, 4, first.time(), true));
        assertThat(payloadsOf("idem")).containsExactly("filler", "a", "b", "c", "one");
    }

    @Test
    default void aBatchsIdempotencyKeyStoresItOnceEvenWhenRetriedConcurrently() throws Exception {
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
    default void aRefusedBatchStoresNothingOfIt() {
        openWith(Limits.defaults().withMaxMessageBytes(1000).withMaxBatchMessages(3), Retention.UNLIMITED);
        append("strict", "ok");
        String tooLongType = "x".repeat(AppendRules.MAX_TYPE_LENGTH + 1);
        Map<ErrorCode, Supplier<CompletableFuture<BatchResult>>> refused = Map.of(
                ErrorCode.INVALID_JSON, () -> broker().appendBatch("strict", TEXT, List.of(), null),
                ErrorCode.PAYLOAD_TOO_LARGE, () -> broker().appendBatch("strict", TEXT,
                        List.of(bytes("fits"), new byte[1001]), null),
                ErrorCode.INVALID_TYPE, () -> broker().appendBatch("strict", tooLongType, texts("x"), null),
                ErrorCode.INVALID_IDEMPOTENCY_KEY, () -> broker().appendBatch("strict", TEXT, texts("x"), ""),
                ErrorCode.RESERVED_TOPIC, () -> broker().appendBatch("_strict", TEXT, texts("x"), null),
                ErrorCode.INVALID_TOPIC, () -> broker().appendBatch("strict..b", TEXT, texts("x"), null));
        refused.forEach((code, call) -> assertRefused(call, code));
        assertRefused(() -> broker().appendBatch("strict", TEXT, texts("1", "2", "3", "4"), null),
                ErrorCode.PAYLOAD_TOO_LARGE);
        assertNothingStoredBesides("strict");

        BatchResult atTheLimits = value(broker().appendBatch("strict", TEXT,
                List.of(new byte[1000], new byte[1000], new byte[1000]), null));
        assertThat(List.of(atTheLimits.firstOffset(), atTheLimits.lastOffset())).containsExactly(2L, 4L);
    }

    // ---- refusals: each is refused with its code and stores nothing ----

    /** Refused input changes nothing: the topic keeps its one message and no other topic appears. */
    private void assertNothingStoredBesides(String topic) {
        assertThat(offsetsOf(topic)).containsExactly(1L);
        assertThat(broker().topics()).extracting(TopicState::name).containsExactly(topic);
    }

    @Test
    default void aMessageOverTheSizeLimitIsRefused() {
        openWith(Limits.defaults().withMaxMessageBytes(1000), Retention.UNLIMITED);
        append("strict", "ok");
        assertRefused(() -> broker().append("strict", TEXT, new byte[1001], null), ErrorCode.PAYLOAD_TOO_LARGE);
        assertRefused(() -> broker().append("strict.other", TEXT, new byte[1001], null), ErrorCode.PAYLOAD_TOO_LARGE);
        assertNothingStoredBesides("strict");
        assertThat(value(broker().append("strict", TEXT, new byte[1000], null)).offset()).as("at the limit")
                .isEqualTo(2);
    }

    @Test
    default void aContentTypeOverItsLengthIsRefused() {
        open();
        append("strict", "ok");
        assertRefused(() -> broker().append("strict", "x".repeat(AppendRules.MAX_TYPE_LENGTH + 1), bytes("x"), null),
                ErrorCode.INVALID_TYPE);
        assertNothingStoredBesides("strict");
    }

    @Test
    default void anEmptyIdempotencyKeyIsRefused() {
        open();
        append("strict", "ok");
        assertRefused(() -> broker().append("strict", TEXT, bytes("x"), ""), ErrorCode.INVALID_IDEMPOTENCY_KEY);
        assertNothingStoredBesides("strict");
    }

    @Test
    default void anIdempotencyKeyOverItsLengthIsRefused() {
        open();
        append("strict", "ok");
        int longest = Limits.defaults().maxIdempotencyKeyLength();
        assertRefused(() -> broker().append("strict", TEXT, bytes("x"), "k".repeat(longest + 1)),
                ErrorCode.INVALID_IDEMPOTENCY_KEY);
        assertNothingStoredBesides("strict");
        assertThat(append("strict", "x", "k".repeat(longest)).offset()).as("at the limit").isEqualTo(2);
    }

    @Test
    default void invalidTopicNamesAreRefusedByEveryCall() {
        open();
        append("strict", "ok");
        for (String bad : List.of("bad..name", "", ".lead", "trail.", "a/b", "spa ce", "ü", "x".repeat(256))) {
            assertRefused(() -> broker().append(bad, TEXT, bytes("x"), null), ErrorCode.INVALID_TOPIC);
            assertRefused(() -> broker().setRetention(bad, Retention.UNLIMITED), ErrorCode.INVALID_TOPIC);
            assertRefused(() -> broker().delete(bad), ErrorCode.INVALID_TOPIC);
            assertThatThrownBy(() -> broker().watch(bad, new RecordingWatcher(broker(), bad)))
                    .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.code())
                            .isEqualTo(ErrorCode.INVALID_TOPIC));
        }
        assertNothingStoredBesides("strict");
    }

    @Test
    default void reservedTopicsCanBeReadButNotWrittenByCallers() {
        open();
        commit(s -> s.append("_jobs.j", TEXT, bytes("server's own")));
        TopicState before = state("_jobs.j");
        assertRefused(() -> broker().append("_jobs.j", TEXT, bytes("x"), null), ErrorCode.RESERVED_TOPIC);
        assertRefused(() -> broker().append("_new", TEXT, bytes("x"), null), ErrorCode.RESERVED_TOPIC);
        assertRefused(() -> broker().setRetention("_jobs.j", new Retention(1L, null, null)), ErrorCode.RESERVED_TOPIC);
        assertRefused(() -> broker().delete("_jobs.j"), ErrorCode.RESERVED_TOPIC);
        assertThat(state("_jobs.j")).isEqualTo(before);
        assertThat(payloadsOf("_jobs.j")).containsExactly("server's own");
        assertThat(broker().topics()).extracting(TopicState::name).containsExactly("_jobs.j");
    }

    @Test
    default void theTopicLimitRefusesNewTopicsButNotExistingOnes() {
        openWith(Limits.defaults().withMaxTopics(3), Retention.UNLIMITED);
        append("a", "1");
        append("b", "1");
        value(broker().setRetention("c", new Retention(10L, null, null)));

        assertRefused(() -> broker().append("d", TEXT, bytes("1"), null), ErrorCode.LIMIT_EXCEEDED);
        assertRefused(() -> broker().append("d", TEXT, bytes("1"), "key"), ErrorCode.LIMIT_EXCEEDED);
        assertRefused(() -> broker().appendBatch("d", TEXT, List.of(bytes("1")), null), ErrorCode.LIMIT_EXCEEDED);
        assertRefused(() -> broker().setRetention("d", Retention.UNLIMITED), ErrorCode.LIMIT_EXCEEDED);
        assertThat(broker().state("d")).isEmpty();
        assertThat(broker().topicCount()).isEqualTo(3);
        assertThat(broker().topics()).extracting(TopicState::name).containsExactly("a", "b", "c");

        assertThat(append("a", "2").offset()).as("existing topics still take appends").isEqualTo(2);
        assertThat(value(broker().setRetention("b", new Retention(1L, null, null))).retention().maxMessages())
                .isEqualTo(1L);
        assertThat(value(broker().delete("c"))).isTrue();
        assertThat(append("d", "1").offset()).as("room again after a delete").isEqualTo(1);
    }
}
