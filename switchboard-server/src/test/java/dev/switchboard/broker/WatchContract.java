package dev.switchboard.broker;

import static dev.switchboard.broker.Answers.value;
import static dev.switchboard.broker.Payloads.bytes;
import static dev.switchboard.broker.Payloads.text;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * The engine contract's watches (part of {@link BrokerContractTest}): a watcher hears every change of its topic once,
 * in order and only once it is readable, and nothing after it is cancelled or its topic deleted.
 */
interface WatchContract extends ContractFixture {

    // ---- watchers ----

    @Test
    default void watchersHearEveryMessageOnceInOffsetOrderOnlyOnceItIsReadable() throws Exception {
        open();
        RecordingWatcher first = RecordingWatcher.watching(broker(), "watched");
        RecordingWatcher second = RecordingWatcher.watching(broker(), "watched");
        int producers = 4;
        int each = 150;
        List<Future<?>> fs = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            int producer = p;
            fs.add(pool().submit(() -> {
                List<CompletableFuture<PublishResult>> mine = new ArrayList<>();
                for (int i = 0; i < each; i++) {
                    mine.add(broker().append("watched", TEXT, bytes(producer + ":" + i), null));
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
    default void aCommitIsHeardAsItsMessagesInOrderThenCommittedOnce() {
        open();
        RecordingWatcher w = RecordingWatcher.watching(broker(), "commits");
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
    default void aWatchOnATopicThatDoesNotExistYetHearsItsFirstMessage() {
        open();
        RecordingWatcher w = RecordingWatcher.watching(broker(), "not.yet");
        assertThat(broker().state("not.yet")).isEmpty();
        append("not.yet", "hello");
        Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> w.events().contains("committed"));
        assertThat(w.events()).containsExactly("appended 1", "committed");
        assertThat(w.messages()).extracting(Payloads::text).containsExactly("hello");
        w.assertEveryChangeWasReadableWhenHeard();
    }

    @Test
    default void aCancelledWatchHearsNothingMore() {
        open();
        RecordingWatcher cancelled = new RecordingWatcher(broker(), "cancel");
        Broker.Watch watch = broker().watch("cancel", cancelled);
        append("cancel", "heard");
        awaitHeard(cancelled, "committed");
        watch.cancel();
        // A witness registered later hears the next change; a call to the cancelled one would have come before it.
        RecordingWatcher witness = RecordingWatcher.watching(broker(), "cancel");
        append("cancel", "not heard");
        awaitHeard(witness, "committed");
        assertThat(witness.events()).containsExactly("appended 2", "committed");
        assertThat(cancelled.events()).containsExactly("appended 1", "committed");
        watch.cancel(); // cancelling twice is harmless
    }

    @Test
    default void aDeletedTopicsWatchersHearDeletedOnceAndNothingAfter() {
        open();
        RecordingWatcher w = RecordingWatcher.watching(broker(), "del");
        append("del", "one");
        assertThat(value(broker().delete("del"))).isTrue();
        awaitHeard(w, "deleted");
        assertThat(w.events()).containsExactly("appended 1", "committed", "deleted");
        assertThat(value(broker().delete("del"))).isFalse();

        RecordingWatcher witness = RecordingWatcher.watching(broker(), "del");
        append("del", "the topic again");
        awaitHeard(witness, "committed");
        assertThat(witness.events()).containsExactly("appended 1", "committed");
        assertThat(w.events()).as("a deleted topic's watchers are dropped")
                .containsExactly("appended 1", "committed", "deleted");
        w.assertEveryChangeWasReadableWhenHeard();
    }
}
