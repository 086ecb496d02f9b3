package dev.switchboard.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.config.Limits;
import dev.switchboard.config.ServerConfig;
import dev.switchboard.fanout.Delivery;
import dev.switchboard.fanout.ReadResult;
import dev.switchboard.fanout.StartPosition;
import dev.switchboard.fanout.TopicFeed;
import dev.switchboard.log.EmbeddedBroker;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import dev.switchboard.xray.StageTimer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link JobTopics} under delivery, on the embedded engine: a job topic's write-out is the one its reader waits for,
 * and its failure fails the reader with no feed left open. The write-out's outcome is given here: the writer's real
 * refusal (JobTopicDiskFullTest fills a disk for it) arrives on its own thread, so a refusal already there when a
 * reader looks is a matter of timing that a test cannot arrange with it.
 */
@Timeout(60)
class JobTopicsTest {
    private static final String TOPIC = JobService.topicOf("j1");

    @TempDir
    Path dir;

    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    private EmbeddedBroker engine;

    private Delivery deliveryWith(Function<String, CompletableFuture<Void>> writeOut) {
        engine = EmbeddedBroker.open(ServerConfig.forTests(dir), metrics);
        return new Delivery(new JobTopics(engine, writeOut), Limits.defaults(), metrics, StageTimer.OFF);
    }

    @AfterEach
    void close() {
        timer.shutdownNow();
        if (engine != null) {
            engine.close();
        }
    }

    private double feeds() {
        return metrics.get("switchboard.feeds").gauge().value();
    }

    @Test
    void aWriteOutRefusedBeforeTheReaderLooksFailsItsAttachAndItsHeldPollAtOnceWithNoFeedOpened() {
        ApiException refusal = ApiException.unavailable("the log could not store the change (no space left on device)");
        Delivery delivery = deliveryWith(id -> CompletableFuture.failedFuture(refusal));

        CompletableFuture<TopicFeed> attaching = delivery.attachAsync(TOPIC);
        assertThat(attaching).isCompletedExceptionally();
        assertThat(attaching.handle((f, e) -> e instanceof CompletionException c ? c.getCause() : e).join())
                .isSameAs(refusal);

        CompletableFuture<ReadResult> held = delivery.poll(TOPIC, StartPosition.NEXT, 10, Duration.ofMinutes(1),
                timer);
        assertThat(held).as("a long poll that would otherwise wait a minute").isCompletedExceptionally();
        assertThat(held.handle((r, e) -> e instanceof CompletionException c ? c.getCause() : e).join())
                .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE));
        assertThat(feeds()).as("feeds open").isZero();
    }

    @Test
    void aReaderWritesTheTopicOutOnceBeforeItsFeedOpensAndTheFeedsWatchWritesNothing() {
        AtomicInteger writeOuts = new AtomicInteger();
        Delivery delivery = deliveryWith(id -> {
            assertThat(id).isEqualTo("j1");
            writeOuts.incrementAndGet();
            return CompletableFuture.completedFuture(null);
        });

        TopicFeed feed = delivery.attachAsync(TOPIC).join();
        assertThat(writeOuts).as("write-outs asked for").hasValue(1);
        assertThat(feeds()).isEqualTo(1);
        delivery.release(feed);
    }
}
