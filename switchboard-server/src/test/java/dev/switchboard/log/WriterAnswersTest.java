package dev.switchboard.log;

import static dev.switchboard.broker.Answers.failureOf;
import static dev.switchboard.broker.Answers.refusal;
import static dev.switchboard.broker.Answers.value;
import static dev.switchboard.broker.Payloads.bytes;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.broker.Broker;
import dev.switchboard.broker.HeldTransaction;
import dev.switchboard.broker.Message;
import dev.switchboard.broker.Payloads;
import dev.switchboard.broker.PublishResult;
import dev.switchboard.broker.RecordingWatcher;
import dev.switchboard.broker.Retention;
import dev.switchboard.broker.TestTransaction;
import dev.switchboard.broker.TopicWatcher;
import dev.switchboard.config.Limits;
import dev.switchboard.config.ServerConfig;
import dev.switchboard.testing.TestServer;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.LongStream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/architecture.md, "The writer answers every command": whatever fails inside the log writer (a transaction while
 * staging, a hook or a watcher after the commit, an admin change), every caller waiting on it is answered, and the
 * writer goes on. And above it, an HTTP request the engine never answers is answered {@code 503 timeout}.
 */
@Timeout(120)
class WriterAnswersTest {
    private static final String TEXT = "text/plain";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private EmbeddedBroker broker;

    private void open() {
        broker = EmbeddedBroker.open(ServerConfig.forTests(dir), new SimpleMeterRegistry());
    }

    private void restart() {
        broker.close();
        open();
    }

    @AfterEach
    void close() {
        if (broker != null) {
            broker.close();
        }
    }

    private CompletableFuture<PublishResult> publish(String topic, String payload) {
        return broker.append(topic, TEXT, bytes(payload), null);
    }

    private static ErrorCode refusedWith(CompletableFuture<?> f) {
        return refusal(f).code();
    }

    private List<Message> readAll(String topic) {
        return broker.read(topic, 1, Integer.MAX_VALUE, Long.MAX_VALUE).join();
    }

    private static List<Long> range(long first, long last) {
        return LongStream.rangeClosed(first, last).boxed().toList();
    }

    // ---- (a) a failure while staging ----

    @Test
    void aTransactionFailingWhileStagingAbandonsItsCommitAndEveryCallerIsAnswered() throws Exception {
        open();
        for (int i = 0; i < 10; i++) {
            publish("crash", "before " + i).join();
        }
        int topicsBefore = broker.topicCount();
        // Publishers that keep going throughout: theirs land in this commit or in others.
        AtomicBoolean stop = new AtomicBoolean();
        Map<String, CompletableFuture<PublishResult>> background = new ConcurrentHashMap<>();
        List<Future<?>> publishers = new ArrayList<>();
        ExecutorService pool = Executors.newCachedThreadPool();
        try {
            for (int p = 0; p < 4; p++) {
                int publisher = p;
                publishers.add(pool.submit(() -> {
                    for (int i = 0; !stop.get(); i++) {
                        String payload = "background " + publisher + ":" + i;
                        CompletableFuture<PublishResult> f = publish("crash", payload);
                        background.put(payload, f);
                        failureOf(f);
                    }
                    return null;
                }));
            }
            Map<String, CompletableFuture<PublishResult>> sameCommit = new ConcurrentHashMap<>();
            TestTransaction culprit;
            HeldTransaction held = HeldTransaction.holding(broker);
            try {
                for (int i = 0; i < 50; i++) {
                    sameCommit.put("queued before " + i, publish("crash", "queued before " + i));
                }
                culprit = new TestTransaction(s -> {
                    s.append("crash", TEXT, bytes("the culprit's"));
                    s.append("crash.new", TEXT, bytes("the culprit's"));
                    s.putRecord("crash/record", bytes("the culprit's"));
                    throw new IllegalStateException("injected: a bug in the middle of staging");
                });
                broker.submit(culprit);
                for (int i = 0; i < 50; i++) {
                    sameCommit.put("queued after " + i, publish("crash", "queued after " + i));
                }
            } finally {
                held.release();
            }
            assertThat(refusedWith(culprit.outcome())).isEqualTo(ErrorCode.INTERNAL);
            assertThat(culprit.calls()).containsExactly("stage", "failed");
            for (CompletableFuture<PublishResult> f : sameCommit.values()) {
                assertThat(refusedWith(f)).as("a publish of the abandoned commit").isEqualTo(ErrorCode.UNAVAILABLE);
            }
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> background.size() > 200);
            stop.set(true);
            for (Future<?> f : publishers) {
                f.get(30, TimeUnit.SECONDS);
            }

            List<String> acknowledged = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                acknowledged.add("before " + i);
            }
            for (Map.Entry<String, CompletableFuture<PublishResult>> e : background.entrySet()) {
                if (failureOf(e.getValue()) == null) {
                    acknowledged.add(e.getKey());
                } else {
                    assertThat(refusedWith(e.getValue())).as("a background publish in the abandoned commit")
                            .isEqualTo(ErrorCode.UNAVAILABLE);
                }
            }
            List<Message> stored = readAll("crash");
            assertThat(stored).extracting(Message::offset).as("offsets stay contiguous")
                    .containsExactlyElementsOf(range(1, stored.size()));
            assertThat(stored).extracting(Payloads::text).as("exactly what was acknowledged")
                    .containsExactlyInAnyOrderElementsOf(acknowledged);
            assertThat(broker.state("crash.new")).as("a topic the abandoned commit created").isEmpty();
            assertThat(broker.topicCount()).isEqualTo(topicsBefore);
            assertThat(broker.record("crash/record").join()).isNull();
            assertThat(broker.unhealthy()).isEmpty();

            assertThat(publish("crash", "later").join().offset()).isEqualTo(stored.size() + 1);
            assertThat(publish("crash.new", "later").join().offset()).isEqualTo(1);
            restart();
            assertThat(readAll("crash")).hasSize(stored.size() + 1);
        } finally {
            stop.set(true); // the background publishers end
            pool.shutdownNow();
        }
    }

    // ---- (b) failures after the commit, and in admin changes ----

    /** A watcher with a bug: it throws from every call. */
    private static final class ThrowingWatcher implements TopicWatcher {
        @Override
        public void appended(Message message) {
            throw new IllegalStateException("injected: appended");
        }

        @Override
        public void truncated(long firstOffset) {
            throw new IllegalStateException("injected: truncated");
        }

        @Override
        public void committed() {
            throw new IllegalStateException("injected: committed");
        }

        @Override
        public void deleted() {
            throw new IllegalStateException("injected: deleted");
        }
    }

    @Test
    void hooksAndWatchersThatThrowSkipOnlyThemselves() {
        open();
        RecordingWatcher before = RecordingWatcher.watching(broker, "hooks");
        broker.watch("hooks", new ThrowingWatcher());
        RecordingWatcher after = RecordingWatcher.watching(broker, "hooks");
        TestTransaction durableThrows;
        TestTransaction committedThrows;
        TestTransaction failedThrows;
        List<CompletableFuture<PublishResult>> publishes = new ArrayList<>();
        HeldTransaction held = HeldTransaction.holding(broker);
        try {
            durableThrows = new TestTransaction(s -> s.append("hooks", TEXT, bytes("durable throws"))) {
                @Override
                public void durable() {
                    super.durable();
                    throw new IllegalStateException("injected: durable");
                }
            };
            committedThrows = new TestTransaction(s -> s.append("hooks", TEXT, bytes("committed throws"))) {
                @Override
                public void committed() {
                    super.committed();
                    throw new IllegalStateException("injected: committed");
                }
            };
            failedThrows = new TestTransaction(s -> {
                throw new ApiException(ErrorCode.JOB_FINISHED, "refused");
            }) {
                @Override
                public void failed(ApiException error) {
                    super.failed(error);
                    throw new IllegalStateException("injected: failed");
                }
            };
            broker.submit(durableThrows);
            broker.submit(committedThrows);
            broker.submit(failedThrows);
            for (int i = 0; i < 20; i++) {
                publishes.add(publish("hooks", "p" + i));
            }
        } finally {
            held.release();
        }
        value(durableThrows.outcome());
        assertThat(durableThrows.calls()).containsExactly("stage", "durable", "committed");
        value(committedThrows.outcome());
        assertThat(refusedWith(failedThrows.outcome())).isEqualTo(ErrorCode.JOB_FINISHED);
        assertThat(publishes).extracting(f -> value(f).offset())
                .containsExactlyElementsOf(range(3, 22));
        for (RecordingWatcher w : List.of(before, after)) {
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> w.events().contains("committed"));
            assertThat(w.offsets()).as("woken despite the watcher that throws").containsExactlyElementsOf(
                    range(1, 22));
            assertThat(w.count("committed")).isEqualTo(1);
        }

        broker.setRetention("hooks", new Retention(2L, null, null)).join();
        for (RecordingWatcher w : List.of(before, after)) {
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> w.events().contains("truncated 21"));
        }
        assertThat(broker.delete("hooks").join()).isTrue();
        for (RecordingWatcher w : List.of(before, after)) {
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> w.events().contains("deleted"));
            w.assertEveryChangeWasReadableWhenHeard();
        }
        assertThat(publish("hooks", "later").join().offset()).isEqualTo(1);
        assertThat(broker.unhealthy()).isEmpty();
    }

    @Test
    void anAdminChangeThatThrowsIsAnsweredAndChangesNothing() {
        open();
        Retention kept = new Retention(100L, null, null);
        broker.setRetention("admin", kept).join();
        publish("admin", "first").join();
        int topicsBefore = broker.topicCount();
        CompletableFuture<PublishResult> queuedBefore;
        CompletableFuture<?> existing;
        CompletableFuture<?> created;
        CompletableFuture<PublishResult> queuedAfter;
        HeldTransaction held = HeldTransaction.holding(broker);
        try {
            queuedBefore = publish("admin", "before");
            // The engine leaves validating a retention to the HTTP layer: a null one makes the change throw inside
            // the writer, like any bug in an admin change would.
            existing = broker.setRetention("admin", null);
            created = broker.setRetention("admin.new", null);
            queuedAfter = publish("admin", "after");
        } finally {
            held.release();
        }
        assertThat(refusedWith(existing)).isEqualTo(ErrorCode.INTERNAL);
        assertThat(refusedWith(created)).isEqualTo(ErrorCode.INTERNAL);
        assertThat(value(queuedBefore).offset()).isEqualTo(2);
        assertThat(value(queuedAfter).offset()).isEqualTo(3);
        assertThat(broker.state("admin").orElseThrow().retention()).as("unchanged").isEqualTo(kept);
        assertThat(broker.state("admin.new")).as("not created").isEmpty();
        assertThat(broker.topicCount()).isEqualTo(topicsBefore);

        assertThat(publish("admin", "later").join().offset()).as("the writer goes on").isEqualTo(4);
        assertThat(publish("admin.new", "later").join().offset()).isEqualTo(1);
        assertThat(broker.unhealthy()).isEmpty();
        restart();
        assertThat(broker.state("admin").orElseThrow().retention()).isEqualTo(kept);
        assertThat(readAll("admin")).extracting(Payloads::text)
                .containsExactly("first", "before", "after", "later");
    }

    // ---- (d) the answer timeout ----

    @Test
    void anHttpPublishTheEngineDoesNotAnswerIs503TimeoutAndIsStoredOnceTheEngineGoesOn() throws IOException {
        Duration answerTimeout = Duration.ofMillis(300);
        try (TestServer server = TestServer.start(c -> c.withLimits(
                Limits.defaults().withAnswerTimeout(answerTimeout)))) {
            Broker engine = server.server().broker();
            HeldTransaction held = HeldTransaction.holding(engine);
            try {
                long start = System.nanoTime();
                HttpResponse<String> r = server.post("/v1/topics/held/messages", TEXT, "queued");
                Duration took = Duration.ofNanos(System.nanoTime() - start);
                assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
                JsonNode error = JSON.readTree(r.body()).get("error");
                assertThat(error.get("code").asText()).isEqualTo("timeout");
                assertThat(error.get("message").asText()).isNotBlank();
                assertThat(took).isGreaterThanOrEqualTo(answerTimeout).isLessThan(Duration.ofSeconds(10));
                assertThat(engine.state("held")).as("still queued behind the held transaction").isEmpty();
            } finally {
                held.release();
            }
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> engine.state("held").isPresent());
            assertThat(engine.read("held", 1, 10, Long.MAX_VALUE).join()).extracting(Payloads::text)
                    .containsExactly("queued");
            HttpResponse<String> next = server.post("/v1/topics/held/messages", TEXT, "next");
            assertThat(next.statusCode()).as(next.body()).isEqualTo(201);
            assertThat(JSON.readTree(next.body()).get("offset").asLong()).isEqualTo(2);
        }
    }
}
