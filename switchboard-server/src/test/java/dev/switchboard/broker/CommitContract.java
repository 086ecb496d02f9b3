package dev.switchboard.broker;

import static dev.switchboard.broker.Answers.assertAnswered;
import static dev.switchboard.broker.Answers.failureOf;
import static dev.switchboard.broker.Answers.value;
import static dev.switchboard.broker.Payloads.bytes;
import static dev.switchboard.broker.Payloads.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * The engine contract's commits (part of {@link BrokerContractTest}): transactions, whose changes become visible
 * together or not at all, and what is acknowledged surviving a restart or the engine closing under load. The Redis
 * Cluster's class replaces the tests whose transactions span hash slots.
 */
interface CommitContract extends ContractFixture {

    // ---- transactions ----

    @Test
    default void aTransactionsMessagesAndRecordsBecomeVisibleTogether() throws Exception {
        open();
        int transactions = 200;
        AtomicBoolean done = new AtomicBoolean();
        List<String> torn = Collections.synchronizedList(new ArrayList<>());
        // An observer reads the first topic, then the second topic and the record: whatever it saw of the first
        // must be there in the others too.
        Future<?> observer = pool().submit(() -> {
            while (!done.get()) {
                int seenA = readAll("atomic.a", 1).size();
                int seenB = readAll("atomic.b", 1).size();
                if (seenB < seenA) {
                    torn.add("atomic.a has " + seenA + " messages, atomic.b " + seenB);
                }
                if (seenA > 0 && value(broker().record("atomic/" + seenA)) == null) {
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
        assertThat(broker().recordsWithPrefix("atomic/")).hasSize(transactions);
    }

    @Test
    default void aTransactionsChangesAreAllReadableWhenItIsAnnounced() {
        open();
        append("both.b", "before");
        List<CompletableFuture<String>> seenInCallbacks = new ArrayList<>();
        // A watcher of the first topic checks, while it is told of the message, the transaction's other changes.
        broker().watch("both.a", new TopicWatcher() {
            @Override
            public void appended(Message message) {
                seenInCallbacks.add(broker().read("both.b", 2, 10, Long.MAX_VALUE)
                        .thenApply(ms -> ms.isEmpty() ? "nothing" : text(ms.getFirst())));
                seenInCallbacks.add(broker().record("both/r").thenApply(Payloads::text));
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
                stateOfBWhenCommitted.set(broker().state("both.b").orElse(null));
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
    default void aTransactionRefusedByItsStageIsRefusedAloneAndTheRestOfItsCommitIsStored() {
        open();
        TestTransaction before;
        TestTransaction refused;
        TestTransaction after;
        CompletableFuture<PublishResult> plain;
        ApiException why = new ApiException(ErrorCode.JOB_FINISHED, "the job has finished");
        HeldTransaction held = HeldTransaction.holding(broker());
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
            plain = broker().append("mixed", TEXT, bytes("plain"), null);
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
        assertThat(broker().recordsWithPrefix("mixed/")).extracting(Broker.Record::key)
                .containsExactly("mixed/after", "mixed/before");
    }

    @Test
    default void recordsAreReadBackAndAStageSeesRecordsStagedBeforeItInTheSameCommit() {
        open();
        commit(s -> s.putRecord("r/0", bytes("stored earlier")));

        Map<String, String> seen = new ConcurrentHashMap<>();
        TestTransaction first;
        TestTransaction second;
        HeldTransaction held = HeldTransaction.holding(broker());
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
        assertThat(text(value(broker().record("r/1")))).isEqualTo("v1 again");
        assertThat(value(broker().record("r/2"))).isNull();
        assertThat(value(broker().record("r/none"))).isNull();
        assertThat(broker().recordsWithPrefix("r/")).extracting(r -> r.key() + "=" + text(r.value()))
                .containsExactly("r/0=stored earlier", "r/1=v1 again", "r/3=v3");
        assertThat(broker().recordsWithPrefix("r/1")).extracting(Broker.Record::key).containsExactly("r/1");
        assertThat(broker().recordsWithPrefix("s/")).isEmpty();
    }

    @Test
    default void aTransactionDeletesATopicWithItsMessages() {
        open();
        RecordingWatcher w = RecordingWatcher.watching(broker(), "doomed");
        long epoch = twoMessagesOn("doomed");
        commit(s -> {
            s.deleteTopic("doomed");
            s.deleteTopic("never.existed");
            s.putRecord("doomed/expired", bytes("yes"));
        });
        assertThat(broker().state("doomed")).isEmpty();
        assertThat(broker().topics()).isEmpty();
        assertThat(read("doomed", 1, 10, Long.MAX_VALUE)).isEmpty();
        assertThat(text(value(broker().record("doomed/expired")))).isEqualTo("yes");
        awaitHeard(w, "deleted");
        assertThat(w.events()).containsExactly("appended 1", "committed", "appended 2", "committed", "deleted");
        w.assertEveryChangeWasReadableWhenHeard();

        PublishResult again = append("doomed", "new", "k");
        assertThat(again.offset()).isEqualTo(1);
        assertThat(again.replayed()).isFalse();
        assertThat(state("doomed").epoch()).isNotEqualTo(epoch);
    }

    @Test
    default void aTopicDeletedThenAppendedToInOneTransactionStartsAgainFromOne() {
        open();
        RecordingWatcher old = RecordingWatcher.watching(broker(), "phoenix");
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

        RecordingWatcher w = RecordingWatcher.watching(broker(), "phoenix");
        PublishResult next = append("phoenix", "after", "k");
        assertThat(next.offset()).isEqualTo(2);
        assertThat(next.replayed()).as("the old topic's keys are gone").isFalse();
        awaitHeard(w, "committed");
        assertThat(w.events()).containsExactly("appended 2", "committed");
        old.assertEveryChangeWasReadableWhenHeard();
        w.assertEveryChangeWasReadableWhenHeard();

        reopen();
        assertThat(state("phoenix")).isEqualTo(new TopicState("phoenix", reborn.epoch(), 1, 2, 11, reborn.created(),
                Retention.UNLIMITED));
        assertThat(payloadsOf("phoenix")).containsExactly("reborn", "after");
    }

    @Test
    default void messagesAppendedThenDeletedInOneTransactionAreNeverSeen() {
        open();
        RecordingWatcher existing = RecordingWatcher.watching(broker(), "existing");
        append("existing", "kept until deleted");
        RecordingWatcher brandNew = RecordingWatcher.watching(broker(), "brand.new");
        commit(s -> {
            s.append("existing", TEXT, bytes("staged"));
            s.append("brand.new", TEXT, bytes("staged"));
            s.deleteTopic("existing");
            s.deleteTopic("brand.new");
            s.putRecord("kept", bytes("yes"));
        });
        assertThat(broker().topics()).isEmpty();
        assertThat(broker().topicCount()).isZero();
        assertThat(read("existing", 1, 10, Long.MAX_VALUE)).isEmpty();
        assertThat(read("brand.new", 1, 10, Long.MAX_VALUE)).isEmpty();
        assertThat(text(value(broker().record("kept")))).isEqualTo("yes");
        awaitHeard(existing, "deleted");
        assertThat(existing.events()).as("the staged message is never heard")
                .containsExactly("appended 1", "committed", "deleted");
        assertThat(append("brand.new", "first").offset()).isEqualTo(1);
        awaitHeard(brandNew, "committed");
        assertThat(brandNew.events()).as("a topic that never existed is not deleted")
                .containsExactly("appended 1", "committed");

        reopen();
        assertThat(broker().topics()).extracting(TopicState::name).containsExactly("brand.new");
        assertThat(payloadsOf("brand.new")).containsExactly("first");
    }

    // ---- restart ----

    @Test
    default void everythingAcknowledgedSurvivesARestartAndOffsetsContinue() {
        open();
        for (int i = 1; i <= 50; i++) {
            append("durable.a", "a" + i, i % 10 == 0 ? "key-" + i : null);
        }
        value(broker().setRetention("durable.b", new Retention(5L, null, null)));
        for (int i = 1; i <= 8; i++) {
            append("durable.b", "b" + i);
        }
        awaitFirstOffset("durable.b", 4);
        commit(s -> {
            s.append("_jobs.r", TEXT, bytes("job event"));
            s.putRecord("job/r", bytes("job state"));
        });
        List<TopicState> before = broker().topics();

        reopen();

        assertThat(broker().topics()).as("positions, bytes, epochs, creation and retention").isEqualTo(before);
        assertThat(payloadsOf("durable.a")).containsExactlyElementsOf(
                range(1, 50).stream().map(i -> "a" + i).toList());
        assertThat(offsetsOf("durable.b")).containsExactly(4L, 5L, 6L, 7L, 8L);
        assertThat(payloadsOf("_jobs.r")).containsExactly("job event");
        assertThat(text(value(broker().record("job/r")))).isEqualTo("job state");
        assertThat(broker().recordsWithPrefix("job/")).extracting(Broker.Record::key).containsExactly("job/r");

        PublishResult replay = append("durable.a", "retried", "key-30");
        assertThat(replay.offset()).as("idempotency keys survive").isEqualTo(30);
        assertThat(replay.replayed()).isTrue();
        assertThat(append("durable.a", "a51").offset()).isEqualTo(51);
        assertThat(append("durable.b", "b9").offset()).isEqualTo(9);
        awaitFirstOffset("durable.b", 5);

        RecordingWatcher w = RecordingWatcher.watching(broker(), "durable.a");
        append("durable.a", "a52");
        awaitHeard(w, "committed");
        assertThat(w.events()).containsExactly("appended 52", "committed");
    }

    // ---- every future completes ----

    @Test
    default void everyFutureCompletesWhenTheEngineClosesUnderLoadAndWhatWasAcknowledgedIsKept() throws Exception {
        open();
        Broker closing = broker();
        Map<String, CompletableFuture<PublishResult>> appends = new ConcurrentHashMap<>();
        CountDownLatch someStored = new CountDownLatch(1);
        List<Future<?>> producers = new ArrayList<>();
        for (int p = 0; p < 4; p++) {
            int producer = p;
            producers.add(pool().submit(() -> {
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

        reopen();
        List<Message> stored = readAll("closing", 1);
        assertThat(stored).extracting(Message::offset).as("offsets stay contiguous")
                .containsExactlyElementsOf(range(1, acknowledged.size()));
        for (Message m : stored) {
            assertThat(text(m)).isEqualTo(acknowledged.get(m.offset()));
        }
        assertThat(append("closing", "after").offset()).isEqualTo(acknowledged.size() + 1);
    }
}
