package dev.switchboard.fanout;

import static dev.switchboard.broker.Payloads.bytes;
import static dev.switchboard.broker.Payloads.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.broker.Message;
import dev.switchboard.broker.Payloads;
import dev.switchboard.broker.PublishResult;
import dev.switchboard.broker.Retention;
import dev.switchboard.config.Limits;
import dev.switchboard.xray.StageTimer;
import dev.switchboard.config.ServerConfig;
import dev.switchboard.log.EmbeddedBroker;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.stream.LongStream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Polls through {@link Delivery}: its feeds, their cache of the newest messages and the engine below them. */
@Timeout(120)
class DeliveryTest {
    private static final Duration NO_WAIT = Duration.ZERO;

    @TempDir
    Path dir;

    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private EmbeddedBroker broker;
    private Delivery delivery;

    private void open(Limits limits) {
        SimpleMeterRegistry metrics = new SimpleMeterRegistry();
        broker = EmbeddedBroker.open(ServerConfig.forTests(dir).withLimits(limits), metrics);
        delivery = new Delivery(broker, limits, metrics, StageTimer.OFF);
    }

    private void open() {
        open(Limits.defaults());
    }

    @AfterEach
    void close() {
        timer.shutdownNow();
        if (broker != null) {
            broker.close();
        }
    }

    private PublishResult publish(String topic, String payload) {
        return broker.append(topic, "text/plain", bytes(payload), null).join();
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

    /** The engine acknowledges a publish, then applies retention: wait for the trim. */
    private void awaitFirstOffset(String topic, long first) {
        Awaitility.await().atMost(Duration.ofSeconds(10))
                .until(() -> broker.state(topic).orElseThrow().firstOffset() == first);
    }

    /** Publishes {@code count} messages to a topic with this retention, until it keeps from {@code firstKept} on. */
    private void publishPastRetention(String topic, Retention retention, int count, IntFunction<String> payload,
                                      long firstKept) {
        broker.setRetention(topic, retention).join();
        for (int i = 1; i <= count; i++) {
            publish(topic, payload.apply(i));
        }
        awaitFirstOffset(topic, firstKept);
    }

    private static void assertCode(Throwable thrown, ErrorCode code) {
        Throwable t = thrown instanceof java.util.concurrent.CompletionException c ? c.getCause() : thrown;
        assertThat(t).isInstanceOf(ApiException.class);
        assertThat(((ApiException) t).code()).isEqualTo(code);
    }

    @Test
    void aShortPollAnswersAtOnceFromEachStartPosition() {
        open();
        for (int i = 1; i <= 5; i++) {
            publish("short", "m" + i);
        }
        ReadResult earliest = poll("short", StartPosition.EARLIEST, 3);
        assertThat(earliest.messages()).extracting(Payloads::text).containsExactly("m1", "m2", "m3");
        assertThat(earliest.next()).isEqualTo(4);
        assertThat(earliest.gap()).isFalse();
        assertThat(poll("short", new StartPosition.AtOffset(4), 10).messages()).extracting(Message::offset)
                .containsExactly(4L, 5L);
        ReadResult next = poll("short", StartPosition.NEXT, 10);
        assertThat(next.messages()).as("nothing newer yet, and a short poll does not wait").isEmpty();
        assertThat(next.next()).isEqualTo(6);
        assertThat(poll("short", new StartPosition.AtOffset(100), 10).messages()).isEmpty();
    }

    @Test
    void aShortPollOfAnUnknownOrDeletedTopicIsTopicNotFound() {
        open();
        assertThatThrownBy(() -> poll("unknown", StartPosition.EARLIEST, 10))
                .satisfies(e -> assertCode(e, ErrorCode.TOPIC_NOT_FOUND));
        publish("gone", "old");
        assertThat(broker.delete("gone").join()).isTrue();
        assertThatThrownBy(() -> poll("gone", StartPosition.EARLIEST, 10))
                .satisfies(e -> assertCode(e, ErrorCode.TOPIC_NOT_FOUND));
        publish("gone", "new");
        ReadResult r = poll("gone", StartPosition.EARLIEST, 10);
        assertThat(r.messages()).extracting(Payloads::text).containsExactly("new");
        assertThat(r.gap()).isFalse();
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

    @Test
    void aLongPollOnATopicThatDoesNotExistYetIsAnsweredByItsFirstMessage() throws Exception {
        open();
        CompletableFuture<ReadResult> held =
                delivery.poll("later", StartPosition.EARLIEST, 10, Duration.ofSeconds(30), timer);
        assertThat(held).isNotDone();
        assertThat(delivery.readers("later")).containsEntry("longpoll", 1);
        publish("later", "hello");
        ReadResult r = held.get(10, TimeUnit.SECONDS);
        assertThat(r.messages()).extracting(Payloads::text).containsExactly("hello");
        assertThat(r.next()).isEqualTo(2);
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> delivery.readers("later").isEmpty());
    }

    @Test
    void pollsReportTheGapThatRetentionLeft() {
        open();
        publishPastRetention("count", new Retention(5L, null, null), 12, i -> "m" + i, 8);
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

        publishPastRetention("bytes", new Retention(null, null, 100L), 10, i -> "x".repeat(30), 8);
        ReadResult bytes = poll("bytes", new StartPosition.AtOffset(1), 100);
        assertThat(bytes.gap()).isTrue();
        assertThat(bytes.messages()).extracting(Message::offset).containsExactly(8L, 9L, 10L);
    }

    @Test
    void readsOlderThanTheInMemoryTailComeFromTheStoreWithGaps() {
        open();
        publishPastRetention("big", new Retention(1500L, null, null), 2000, i -> "m" + i, 501);
        // A feed keeps the newest messages in memory from when it is attached: the older ones are read from the
        // store, the newest from the feed.
        TopicFeed feed = delivery.attach("big");
        try {
            publish("big", "m2001");
            awaitFirstOffset("big", 502);
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> feed.cached(2001) != null);
            assertThat(feed.cached(1000)).as("older than the feed").isNull();
            ReadResult r = poll("big", new StartPosition.AtOffset(1), 1000);
            assertThat(r.gap()).isTrue();
            assertThat(r.messages()).hasSize(1000);
            assertThat(r.messages().getFirst().offset()).isEqualTo(502);
            assertThat(r.next()).isEqualTo(1502);
            assertThat(text(r.messages().get(10))).isEqualTo("m512");
            assertThat(readAll("big", 502)).extracting(Message::offset)
                    .containsExactlyElementsOf(LongStream.rangeClosed(502, 2001).boxed().toList());
        } finally {
            delivery.release(feed);
        }
    }

    /**
     * One topic answers from its feed's memory at once, the other from the store a moment later: a poll of no wait
     * answers with both, not with the first one ready (it did, now and then, under load).
     */
    @Test
    void aShortPollOverManyTopicsWaitsForTheTopicsStillReadingFromTheStore() throws Exception {
        open();
        String kilobyte = "k".repeat(1024);
        for (int i = 1; i <= 50; i++) {
            publish("stored", kilobyte);
        }
        TopicFeed feed = delivery.attach("cached");
        try {
            publish("cached", "newest");
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> feed.cached(1) != null);
            ManyTopicsAnswer answer = timer.submit(() -> delivery.pollMany(List.of("cached", "stored"), null,
                    (topic, at) -> StartPosition.EARLIEST, 100, NO_WAIT, timer)).get().get(10, TimeUnit.SECONDS);
            assertThat(answer.messages()).hasSize(51);
            assertThat(answer.next()).containsEntry("cached", 2L).containsEntry("stored", 51L);
        } finally {
            delivery.release(feed);
        }
    }

    @Test
    void attachingToANewTopicIsRefusedAtTheTopicLimit() {
        open(Limits.defaults().withMaxTopics(3));
        publish("a", "1");
        publish("b", "1");
        TopicFeed awaited = delivery.attach("c"); // a topic awaited by a reader counts against the limit
        try {
            assertThatThrownBy(() -> delivery.attach("d")).satisfies(e -> assertCode(e, ErrorCode.LIMIT_EXCEEDED));
            assertThatThrownBy(() -> delivery.poll("d", StartPosition.NEXT, 10, Duration.ofSeconds(5), timer))
                    .satisfies(e -> assertCode(e, ErrorCode.LIMIT_EXCEEDED));
            TopicFeed existing = delivery.attach("a");
            delivery.release(existing);
        } finally {
            delivery.release(awaited);
        }
        TopicFeed roomAgain = delivery.attach("d");
        delivery.release(roomAgain);

        broker.setRetention("c", new Retention(10L, null, null)).join();
        assertThat(broker.topicCount()).isEqualTo(3);
        assertThatThrownBy(() -> delivery.attach("d")).as("three stored topics")
                .satisfies(e -> assertCode(e, ErrorCode.LIMIT_EXCEEDED));
    }
}
