package dev.switchboard.broker;

import static dev.switchboard.broker.Answers.value;
import static dev.switchboard.broker.Payloads.bytes;
import static dev.switchboard.broker.Payloads.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.config.Limits;
import dev.switchboard.wire.ErrorCode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * The engine contract's topics (part of {@link BrokerContractTest}): what a read returns, what a topic's state and the
 * topic list report, how headers are kept, who hears a topic created, and what retention drops.
 */
interface TopicContract extends ContractFixture {

    // ---- reads ----

    @Test
    default void aReadReturnsARangeBoundedByCountAndBytes() {
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
    default void stateReportsPositionsBytesCreationAndTheDefaultRetention() {
        Retention defaults = new Retention(1000L, Duration.ofDays(7), 1_000_000L);
        openWith(Limits.defaults(), defaults);
        assertThat(broker().state("s")).isEmpty();
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
        assertThat(broker().state("s")).contains(s);
        assertThat(value(broker().stateAsync("s"))).as("without blocking, the same").contains(s);
        assertThat(value(broker().stateAsync("none"))).isEmpty();

        Retention own = new Retention(5L, null, null);
        TopicState changed = value(broker().setRetention("s", own));
        assertThat(changed).isEqualTo(new TopicState("s", s.epoch(), 1, 3, 13, s.created(), own));
        assertThat(state("s")).isEqualTo(changed);
    }

    @Test
    default void topicsListsEveryTopicByNameReservedOnesIncluded() {
        open();
        append("b", "1");
        append("a", "1");
        value(broker().setRetention("c", new Retention(3L, null, null)));
        commit(s -> s.append("_jobs.j1", TEXT, bytes("created")));
        assertThat(broker().topics()).extracting(TopicState::name).containsExactly("_jobs.j1", "a", "b", "c");
        assertThat(broker().topics()).containsExactly(state("_jobs.j1"), state("a"), state("b"), state("c"));
        assertThat(broker().topicCount()).isEqualTo(4);
        assertThat(value(broker().topicsAsync())).as("without blocking, the same").isEqualTo(broker().topics());
    }

    @Test
    default void settingRetentionCreatesAnEmptyTopic() {
        open();
        Retention r = new Retention(10L, null, null);
        TopicState created = value(broker().setRetention("empty", r));
        assertThat(created.name()).isEqualTo("empty");
        assertThat(created.messages()).isZero();
        assertThat(created.lastOffset()).isZero();
        assertThat(created.bytes()).isZero();
        assertThat(created.retention()).isEqualTo(r);
        assertThat(broker().state("empty")).contains(created);
        assertThat(read("empty", 1, 10, Long.MAX_VALUE)).isEmpty();
        assertThat(append("empty", "first").offset()).isEqualTo(1);
        assertThat(state("empty").epoch()).isEqualTo(created.epoch());
    }

    @Test
    default void theEpochChangesWhenATopicIsDeletedAndCreatedAgainAndOnlyThen() {
        open();
        append("e", "1");
        long epoch = state("e").epoch();
        append("e", "2");
        value(broker().setRetention("e", new Retention(1L, null, null)));
        assertThat(state("e").epoch()).as("appends and retention keep the epoch").isEqualTo(epoch);

        assertThat(value(broker().delete("e"))).isTrue();
        append("e", "again");
        TopicState again = state("e");
        assertThat(again.epoch()).as("a new topic of the same name").isNotEqualTo(epoch);
        assertThat(again.lastOffset()).isEqualTo(1);
        assertThat(again.retention()).as("the new topic has the default retention").isEqualTo(Retention.UNLIMITED);

        reopen();
        assertThat(state("e").epoch()).as("a restart keeps the epoch").isEqualTo(again.epoch());
    }

    @Test
    default void headersAreStoredWithTheirMessageAndReadAndHeardWithIt() {
        open();
        RecordingWatcher w = RecordingWatcher.watching(broker(), "with-headers");
        Map<String, List<String>> headers = new LinkedHashMap<>();
        headers.put("Trace-Id", List.of("abc"));
        headers.put("Tag", List.of("one", "two: three"));
        long offset = value(broker().append("with-headers", TEXT, bytes("payload"), headers, null)).offset();
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

        reopen();
        assertThat(read("with-headers", 1, 10, Long.MAX_VALUE).getFirst().headers()).isEqualTo(headers);
    }

    @Test
    default void aBatchsHeadersAreOnEveryMessageAndHeadersEitherAppendRefusesStoreNothing() {
        openWith(Limits.defaults().withMaxMessageBytes(1000), Retention.UNLIMITED);
        append("strict", "ok");
        Map<String, List<String>> headers = Map.of("Source", List.of("import-3"));
        BatchResult batch = value(broker().appendBatch("strict", TEXT, texts("a", "b"), headers, null));
        assertThat(List.of(batch.firstOffset(), batch.lastOffset())).containsExactly(2L, 3L);
        assertThat(read("strict", 1, 10, Long.MAX_VALUE)).extracting(Message::headers)
                .containsExactly(Map.of(), headers, headers);

        Map<String, List<String>> badName = Map.of("a b", List.of("v"));
        Map<String, List<String>> badValue = Map.of("T", List.of("line\nbreak"));
        assertRefused(() -> broker().append("strict", TEXT, bytes("x"), badName, null), ErrorCode.INVALID_HEADERS);
        assertRefused(() -> broker().append("strict", TEXT, bytes("x"), badValue, null), ErrorCode.INVALID_HEADERS);
        assertRefused(() -> broker().appendBatch("strict", TEXT, texts("x"), badName, null), ErrorCode.INVALID_HEADERS);
        // headers count against each message's size: 999 payload bytes fit alone, not with a header
        assertRefused(() -> broker().appendBatch("strict", TEXT, List.of(new byte[999]), headers, null),
                ErrorCode.PAYLOAD_TOO_LARGE);
        assertRefused(() -> broker().append("strict", TEXT, new byte[999], headers, null), ErrorCode.PAYLOAD_TOO_LARGE);
        assertThat(offsetsOf("strict")).containsExactly(1L, 2L, 3L);
        assertThat(broker().topics()).extracting(TopicState::name).containsExactly("strict");
    }

    @Test
    default void creationListenersHearEachTopicCreatedOnceItIsReadableAndNotItsLaterChanges() {
        open();
        append("before", "1");
        List<String> heard = new CopyOnWriteArrayList<>();
        List<String> unreadable = new CopyOnWriteArrayList<>();
        Broker.Watch watch = broker().watchCreations(name -> {
            heard.add(name);
            if (broker().state(name).isEmpty()) {
                unreadable.add(name);
            }
        });
        append("before", "2");
        append("fresh", "1");
        append("fresh", "2");
        value(broker().setRetention("empty", new Retention(3L, null, null)));
        commit(s -> s.append("_jobs.created", TEXT, bytes("x")));
        value(broker().delete("fresh"));
        append("fresh", "again");
        Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> heard.size() >= 4);
        append("last", "1");
        Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> heard.contains("last"));
        assertThat(heard).containsExactly("fresh", "empty", "_jobs.created", "fresh", "last");
        assertThat(unreadable).isEmpty();

        watch.cancel();
        List<String> stillListening = new CopyOnWriteArrayList<>();
        Broker.Watch other = broker().watchCreations(stillListening::add);
        append("after-cancel", "1");
        Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> stillListening.contains("after-cancel"));
        assertThat(heard).doesNotContain("after-cancel");
        other.cancel();
    }

    // ---- retention ----

    @Test
    default void retentionByCountDropsTheOldestAndReadsStartLater() {
        open();
        value(broker().setRetention("count", new Retention(5L, null, null)));
        RecordingWatcher w = RecordingWatcher.watching(broker(), "count");
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
    default void retentionByBytesKeepsTheNewestWithinTheBound() {
        open();
        value(broker().setRetention("bytes", new Retention(null, null, 100L)));
        RecordingWatcher w = RecordingWatcher.watching(broker(), "bytes");
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
    default void retentionByAgeDropsMessagesOnceTheyAreOlderThanTheBound() {
        open();
        value(broker().setRetention("age", new Retention(null, Duration.ofMillis(300), null)));
        RecordingWatcher w = RecordingWatcher.watching(broker(), "age");
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
    default void settingRetentionOnAFullTopicAppliesAtOnceAndWakesWatchers() {
        open();
        RecordingWatcher w = RecordingWatcher.watching(broker(), "later");
        for (int i = 1; i <= 20; i++) {
            append("later", "m" + i);
        }
        awaitHeard(w, "appended 20");
        Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> w.count("committed") == 20);
        TopicState after = value(broker().setRetention("later", new Retention(3L, null, null)));
        assertThat(after.firstOffset()).isEqualTo(18);
        assertThat(after.lastOffset()).isEqualTo(20);
        assertThat(after.retention()).isEqualTo(new Retention(3L, null, null));
        assertThat(read("later", 1, 100, Long.MAX_VALUE)).extracting(Message::offset).containsExactly(18L, 19L, 20L);
        Awaitility.await().atMost(Duration.ofSeconds(15)).until(() -> w.events().size() == 42);
        assertThat(w.events().subList(40, 42)).containsExactly("truncated 18", "committed");
        w.assertEveryChangeWasReadableWhenHeard();
    }
}
