package dev.switchboard.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.switchboard.broker.Message;
import dev.switchboard.broker.Retention;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RocksLogTest {
    @TempDir
    Path dir;

    private RocksLog log;

    @BeforeEach
    void open() {
        log = RocksLog.open(dir.resolve("log"));
    }

    @AfterEach
    void close() {
        if (log != null) {
            log.close();
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static RocksLog.IdempotencyHit hit(long first, long last, long time) {
        return new RocksLog.IdempotencyHit(first, last, time);
    }

    private static StoredTopic topic(long id, String name, long first, long last, long bytes) {
        return new StoredTopic(id, name, 12345L, Retention.UNLIMITED, first, last, bytes);
    }

    /** Writes messages first..last of a topic, payload "m<offset>", and its record, in one batch. */
    private void append(long topicId, String name, long first, long last) {
        try (RocksLog.Batch b = log.newBatch()) {
            long bytes = 0;
            for (long o = first; o <= last; o++) {
                byte[] p = bytes("m" + o);
                b.putMessage(topicId, o, 1000 + o, "text/plain", p);
                bytes += p.length;
            }
            b.putTopic(topic(topicId, name, 1, last, bytes));
            log.write(b, false);
        }
    }

    private List<Long> offsets(long topicId, String name) {
        return log.read(topicId, name, 1, Long.MAX_VALUE, Integer.MAX_VALUE, Long.MAX_VALUE).stream()
                .map(Message::offset).toList();
    }

    private void reopen() {
        log.close();
        log = null;
        log = RocksLog.open(dir.resolve("log"));
    }

    @Test
    void aBatchIsInvisibleUntilWrittenThenVisibleWhole() {
        try (RocksLog.Batch b = log.newBatch()) {
            assertThat(b.isEmpty()).isTrue();
            b.putMessage(1, 1, 1001, "text/plain", bytes("a"));
            b.putMessage(1, 2, 1002, "application/json", bytes("{\"x\":1}"));
            b.putIdempotencyKey(1, "k1", 2, 2, 1002);
            b.putTopic(topic(1, "one", 1, 2, 8));
            assertThat(b.isEmpty()).isFalse();

            assertThat(log.read(1, "one", 1, Long.MAX_VALUE, 100, Long.MAX_VALUE)).isEmpty();
            assertThat(log.loadTopics()).isEmpty();
            assertThat(log.idempotencyHit(1, "k1")).isNull();

            log.write(b, true);
        }
        List<Message> read = log.read(1, "one", 1, Long.MAX_VALUE, 100, Long.MAX_VALUE);
        assertThat(read).extracting(Message::offset).containsExactly(1L, 2L);
        Message second = read.get(1);
        assertThat(second.topic()).isEqualTo("one");
        assertThat(second.time()).isEqualTo(1002);
        assertThat(second.type()).isEqualTo("application/json");
        assertThat(new String(second.payload(), StandardCharsets.UTF_8)).isEqualTo("{\"x\":1}");
        assertThat(log.loadTopics()).containsExactly(topic(1, "one", 1, 2, 8));
        assertThat(log.idempotencyHit(1, "k1")).isEqualTo(hit(2, 2, 1002));
    }

    /**
     * Small values are encoded in a reused buffer, large ones as arrays: a batch mixing both, types changing between
     * messages and headers on some, stores each message as it was given.
     */
    @Test
    void messagesOfEverySizeTypeAndHeadersReadBackAsWritten() {
        byte[] large = new byte[100_000];
        Arrays.fill(large, (byte) 'L');
        Map<String, List<String>> headers = Map.of("trace", List.of("abc"));
        try (RocksLog.Batch b = log.newBatch()) {
            b.putMessage(1, 1, 1001, "text/plain", bytes("small"));
            b.putMessage(1, 2, 1002, "application/octet-stream", large);
            b.putMessage(1, 3, 1003, "application/json", bytes("{}"), headers);
            b.putMessage(1, 4, 1004, "application/json", bytes("[]"));
            b.putMessage(1, 5, 1005, "text/plain", new byte[0]);
            log.write(b, false);
        }
        List<Message> read = log.read(1, "one", 1, Long.MAX_VALUE, 100, Long.MAX_VALUE);
        assertThat(read).extracting(Message::offset).containsExactly(1L, 2L, 3L, 4L, 5L);
        assertThat(read).extracting(Message::time).containsExactly(1001L, 1002L, 1003L, 1004L, 1005L);
        assertThat(read).extracting(Message::type).containsExactly("text/plain", "application/octet-stream",
                "application/json", "application/json", "text/plain");
        assertThat(read).extracting(m -> new String(m.payload(), StandardCharsets.UTF_8))
                .containsExactly("small", new String(large, StandardCharsets.UTF_8), "{}", "[]", "");
        assertThat(read.get(2).headers()).isEqualTo(headers);
        assertThat(read.get(3).headers()).isEmpty();
    }

    @Test
    void anAbandonedBatchChangesNothing() {
        append(1, "one", 1, 3);
        try (RocksLog.Batch b = log.newBatch()) {
            b.putMessage(1, 4, 1004, "text/plain", bytes("m4"));
            b.deleteMessages(1, 1, 3);
            b.deleteTopic(1);
            // closed without write
        }
        assertThat(offsets(1, "one")).containsExactly(1L, 2L, 3L);
        assertThat(log.loadTopics()).hasSize(1);
    }

    @Test
    void deletesApplyAtomicallyWithPutsInTheSameBatch() {
        append(1, "one", 1, 10);
        try (RocksLog.Batch b = log.newBatch()) {
            b.deleteMessages(1, 1, 6); // [1, 6)
            b.putMessage(1, 11, 1011, "text/plain", bytes("m11"));
            b.putTopic(topic(1, "one", 6, 11, 18));
            log.write(b, false);
        }
        assertThat(offsets(1, "one")).containsExactly(6L, 7L, 8L, 9L, 10L, 11L);
        assertThat(log.loadTopics()).containsExactly(topic(1, "one", 6, 11, 18));
    }

    @Test
    void readStopsAtMaxCount() {
        append(1, "one", 1, 50);
        assertThat(log.read(1, "one", 10, Long.MAX_VALUE, 5, Long.MAX_VALUE)).extracting(Message::offset)
                .containsExactly(10L, 11L, 12L, 13L, 14L);
    }

    @Test
    void readStopsOnceMaxBytesIsReachedButReturnsAtLeastOne() {
        try (RocksLog.Batch b = log.newBatch()) {
            for (long o = 1; o <= 10; o++) {
                b.putMessage(1, o, 1000 + o, "application/octet-stream", new byte[64]);
            }
            log.write(b, false);
        }
        // 64 + 64 = 128 >= 100: the message that crosses the bound is the last one.
        assertThat(log.read(1, "one", 1, Long.MAX_VALUE, 100, 100)).extracting(Message::offset).containsExactly(1L, 2L);
        assertThat(log.read(1, "one", 1, Long.MAX_VALUE, 100, 128)).extracting(Message::offset).containsExactly(1L, 2L);
        assertThat(log.read(1, "one", 1, Long.MAX_VALUE, 100, 129)).hasSize(3);
        assertThat(log.read(1, "one", 5, Long.MAX_VALUE, 100, 1)).extracting(Message::offset).containsExactly(5L);
        assertThat(log.read(1, "one", 1, Long.MAX_VALUE, 100, Long.MAX_VALUE)).hasSize(10)
                .allSatisfy(m -> assertThat(m.payload()).hasSize(64));
    }

    @Test
    void readStartsAtTheFirstOffsetAtOrAfterFromAndStaysInItsTopic() {
        append(1, "one", 1, 5);
        append(2, "two", 1, 5);
        try (RocksLog.Batch b = log.newBatch()) {
            b.deleteMessages(1, 1, 3);
            log.write(b, false);
        }
        assertThat(log.read(1, "one", 1, Long.MAX_VALUE, 100, Long.MAX_VALUE)).extracting(Message::offset)
                .containsExactly(3L, 4L, 5L);
        assertThat(log.read(1, "one", 6, Long.MAX_VALUE, 100, Long.MAX_VALUE))
                .as("past the end of topic 1, not into topic 2").isEmpty();
        assertThat(log.read(1, "one", 1, 4, 100, Long.MAX_VALUE)).as("not past the last offset asked for")
                .extracting(Message::offset).containsExactly(3L, 4L);
        assertThat(log.read(2, "two", 4, Long.MAX_VALUE, 100, Long.MAX_VALUE))
                .extracting(Message::topic, Message::offset)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("two", 4L), org.assertj.core.groups.Tuple.tuple("two", 5L));
        assertThat(log.read(3, "three", 1, Long.MAX_VALUE, 100, Long.MAX_VALUE)).isEmpty();
    }

    @Test
    void scanVisitsOffsetTimeAndPayloadSizeUntilToldToStop() {
        try (RocksLog.Batch b = log.newBatch()) {
            for (long o = 1; o <= 10; o++) {
                b.putMessage(7, o, 5000 + o, "text/plain; charset=utf-8", new byte[(int) o]);
            }
            b.putMessage(8, 1, 1, "text/plain", new byte[99]);
            log.write(b, false);
        }
        List<long[]> seen = new ArrayList<>();
        log.scan(7, 3, (offset, time, size) -> {
            seen.add(new long[] {offset, time, size});
            return offset < 6;
        });
        assertThat(seen).containsExactly(new long[] {3, 5003, 3}, new long[] {4, 5004, 4}, new long[] {5, 5005, 5},
                new long[] {6, 5006, 6});

        List<Long> all = new ArrayList<>();
        log.scan(7, 1, (offset, time, size) -> all.add(offset));
        assertThat(all).as("stops at the end of its own topic").hasSize(10);
    }

    @Test
    void deleteTopicRemovesItsRecordMessagesAndKeysButNoOtherTopics() {
        append(1, "one", 1, 5);
        append(2, "two", 1, 5);
        try (RocksLog.Batch b = log.newBatch()) {
            b.putIdempotencyKey(1, "k", 3, 3, 1003);
            b.putIdempotencyKey(2, "k", 4, 4, 1004);
            log.write(b, false);
        }
        try (RocksLog.Batch b = log.newBatch()) {
            b.deleteTopic(1);
            log.write(b, true);
        }
        assertThat(log.loadTopics()).extracting(StoredTopic::name).containsExactly("two");
        assertThat(log.read(1, "one", 1, Long.MAX_VALUE, 100, Long.MAX_VALUE)).isEmpty();
        assertThat(log.idempotencyHit(1, "k")).isNull();
        assertThat(offsets(2, "two")).containsExactly(1L, 2L, 3L, 4L, 5L);
        assertThat(log.idempotencyHit(2, "k")).isEqualTo(hit(4, 4, 1004));
    }

    @Test
    void idempotencyKeysAreScopedToTheirTopicAndExpireByTime() {
        try (RocksLog.Batch b = log.newBatch()) {
            b.putIdempotencyKey(1, "old", 1, 1, 1000);
            b.putIdempotencyKey(1, "new", 2, 2, 5000);
            b.putIdempotencyKey(2, "old", 9, 9, 4000);
            b.putIdempotencyKey(2, "batch", 10, 14, 1500);
            log.write(b, false);
        }
        assertThat(log.idempotencyHit(2, "batch")).as("a batch's range").isEqualTo(hit(10, 14, 1500));
        assertThat(log.idempotencyHit(1, "old")).isEqualTo(hit(1, 1, 1000));
        assertThat(log.idempotencyHit(2, "old")).isEqualTo(hit(9, 9, 4000));
        assertThat(log.idempotencyHit(1, "missing")).isNull();
        assertThat(log.idempotencyHit(3, "old")).isNull();

        assertThat(log.expireIdempotencyKeys(4000)).as("strictly older than the cutoff").isEqualTo(2);
        assertThat(log.idempotencyHit(1, "old")).isNull();
        assertThat(log.idempotencyHit(2, "batch")).isNull();
        assertThat(log.idempotencyHit(2, "old")).isEqualTo(hit(9, 9, 4000));
        assertThat(log.idempotencyHit(1, "new")).isEqualTo(hit(2, 2, 5000));

        assertThat(log.expireIdempotencyKeys(4000)).isZero();
        assertThat(log.expireIdempotencyKeys(Long.MAX_VALUE)).isEqualTo(2);
        assertThat(log.idempotencyHit(1, "new")).isNull();
    }

    @Test
    void topicRecordsRoundTripWithRetention() {
        StoredTopic full = new StoredTopic(3, "a.b-c_d", 777, new Retention(10L, Duration.ofDays(7), 4096L), 5, 9, 123);
        StoredTopic partial = new StoredTopic(4, "x", 778, new Retention(null, Duration.ofMillis(1500), null), 1, 0, 0);
        try (RocksLog.Batch b = log.newBatch()) {
            b.putTopic(full);
            b.putTopic(partial);
            log.write(b, false);
        }
        assertThat(log.loadTopics()).containsExactlyInAnyOrder(full, partial);
        try (RocksLog.Batch b = log.newBatch()) {
            b.putTopic(full.withRetention(Retention.UNLIMITED).withOffsets(6, 12, 200));
            log.write(b, false);
        }
        assertThat(log.loadTopics()).contains(new StoredTopic(3, "a.b-c_d", 777, Retention.UNLIMITED, 6, 12, 200));
    }

    /** The record is written without Jackson's generator now; stores written before must read the same. */
    @Test
    void topicRecordsAreTheBytesJacksonWrote() throws IOException {
        for (StoredTopic t : List.of(
                new StoredTopic(3, "a.b-c_d", 777, new Retention(10L, Duration.ofDays(7), 4096L), 5, 9, 123),
                new StoredTopic(Long.MAX_VALUE, "x", -1, new Retention(null, Duration.ofMillis(1500), null), 1, 0, 0),
                new StoredTopic(0, "_presence.t", 0, new Retention(1L, null, 2L), Long.MAX_VALUE, 0, 0),
                new StoredTopic(1, "t", 2, Retention.UNLIMITED, 3, 4, 5))) {
            ByteArrayOutputStream jackson = new ByteArrayOutputStream();
            try (JsonGenerator g = new JsonFactory().createGenerator(jackson)) {
                g.writeStartObject();
                g.writeNumberField("id", t.id());
                g.writeStringField("name", t.name());
                g.writeNumberField("created", t.created());
                g.writeNumberField("first", t.firstOffset());
                g.writeNumberField("last", t.lastOffset());
                g.writeNumberField("bytes", t.bytes());
                Retention r = t.retention();
                if (r.maxMessages() != null) g.writeNumberField("maxMessages", r.maxMessages());
                if (r.maxAge() != null) g.writeNumberField("maxAgeMs", r.maxAge().toMillis());
                if (r.maxBytes() != null) g.writeNumberField("maxBytes", r.maxBytes());
                g.writeEndObject();
            }
            assertThat(new String(RocksLog.encodeTopic(t), StandardCharsets.UTF_8))
                    .isEqualTo(jackson.toString(StandardCharsets.UTF_8));
        }
    }

    @Test
    void aTopicRecordWithANameNeedingEscapesReadsBack() {
        StoredTopic odd = new StoredTopic(5, "q\"\\é\n😀", 1, Retention.UNLIMITED, 1, 2, 3);
        try (RocksLog.Batch b = log.newBatch()) {
            b.putTopic(odd);
            log.write(b, false);
        }
        assertThat(log.loadTopics()).contains(odd);
    }

    @Test
    void reopeningKeepsWhatWasWrittenWithoutSync() {
        append(1, "one", 1, 20);
        try (RocksLog.Batch b = log.newBatch()) {
            b.putIdempotencyKey(1, "k", 20, 20, 1020);
            b.putIdempotencyKey(1, "range", 15, 19, 1019);
            log.write(b, false);
        }
        reopen();
        assertThat(log.loadTopics()).containsExactly(topic(1, "one", 1, 20, 20 * 2 + 11));
        assertThat(offsets(1, "one")).hasSize(20).first().isEqualTo(1L);
        assertThat(new String(log.read(1, "one", 17, Long.MAX_VALUE, 1, Long.MAX_VALUE).getFirst().payload(), StandardCharsets.UTF_8))
                .isEqualTo("m17");
        assertThat(log.idempotencyHit(1, "k")).isEqualTo(hit(20, 20, 1020));
        assertThat(log.idempotencyHit(1, "range")).isEqualTo(hit(15, 19, 1019));

        append(1, "one", 21, 25);
        reopen();
        assertThat(offsets(1, "one")).hasSize(25).last().isEqualTo(25L);
    }

    @Test
    void openingADirectoryThatIsNotADirectoryFailsWithLogException() throws Exception {
        Path file = Files.writeString(dir.resolve("plain-file"), "x");
        assertThatThrownBy(() -> RocksLog.open(file)).isInstanceOf(LogException.class);
    }
}
