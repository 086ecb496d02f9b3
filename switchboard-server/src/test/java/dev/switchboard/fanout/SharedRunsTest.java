package dev.switchboard.fanout;

import static dev.switchboard.broker.Payloads.bytes;
import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.broker.Message;
import dev.switchboard.config.Limits;
import dev.switchboard.config.ServerConfig;
import dev.switchboard.log.EmbeddedBroker;
import dev.switchboard.xray.StageTimer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Runs of messages built once per wake-up for every subscriber at the same offset, over the embedded engine. */
@Timeout(60)
class SharedRunsTest {
    /** A wire form: the payload between brackets, cached on the message as a transport's frame is. */
    private static final int SLOT = Message.newEncodingSlot();
    private static final SharedEncoding BRACKETED = m -> m.encoded(SLOT, SharedRunsTest::bracketed);
    private static final SharedEncoding OTHER = m -> m.payload();

    @TempDir
    Path dir;

    private EmbeddedBroker broker;
    private TopicFeed feed;
    private final SharedRuns runs = new SharedRuns();

    @BeforeEach
    void open() {
        SimpleMeterRegistry metrics = new SimpleMeterRegistry();
        broker = EmbeddedBroker.open(ServerConfig.forTests(dir), metrics);
        feed = new Delivery(broker, Limits.defaults(), metrics, StageTimer.OFF).attach("runs");
    }

    @AfterEach
    void close() {
        runs.release();
        broker.close();
    }

    private static byte[] bracketed(Message m) {
        return ("[" + new String(m.payload(), StandardCharsets.UTF_8) + "]").getBytes(StandardCharsets.UTF_8);
    }

    /** Publishes, then waits until the feed holds every message in memory, as a drain finds them. */
    private void publish(String... payloads) {
        long last = 0;
        for (String p : payloads) {
            last = broker.append("runs", "text/plain", bytes(p), null).join().offset();
        }
        long newest = last;
        Awaitility.await().until(() -> feed.lastOffset() == newest && feed.cached(newest) != null);
    }

    private static String text(ByteBuf b) {
        return b.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aRunIsTheMessagesFromItsOffsetEndToEndBuiltOnceForEveryReaderThere() {
        publish("a", "b", "c");

        SharedRuns.Run run = runs.from(feed, BRACKETED, 1, 512);

        assertThat(run.count()).isEqualTo(3);
        assertThat(text(run.bytes())).isEqualTo("[a][b][c]");
        assertThat(runs.from(feed, BRACKETED, 1, 512)).isSameAs(run);
        assertThat(text(runs.from(feed, BRACKETED, 2, 512).bytes())).isEqualTo("[b][c]");
        assertThat(text(runs.from(feed, OTHER, 1, 512).bytes())).as("each encoding its own run").isEqualTo("abc");
    }

    @Test
    void aRunStopsAtTheCountItMayTakeAndAtTheNewestMessage() {
        publish("a", "b", "c");

        assertThat(text(runs.from(feed, BRACKETED, 1, 2).bytes())).isEqualTo("[a][b]");
        assertThat(runs.from(feed, BRACKETED, 1, 1).count()).as("a longer run is not handed to a reader that may take"
                + " fewer").isEqualTo(1);
        assertThat(runs.from(feed, BRACKETED, 4, 512)).as("nothing at offset 4 yet").isNull();
    }

    @Test
    void aLargeMessageEndsARunAndStartsNone() {
        String large = "x".repeat(SharedRuns.MAX_MESSAGE_BYTES);
        publish("a", large, "c");

        assertThat(text(runs.from(feed, BRACKETED, 1, 512).bytes())).isEqualTo("[a]");
        assertThat(runs.from(feed, BRACKETED, 2, 512)).as("written as it is by the sink").isNull();
        assertThat(text(runs.from(feed, BRACKETED, 3, 512).bytes())).isEqualTo("[c]");
    }

    @Test
    void aRunStopsBeforeItsBufferWouldPassItsBound() {
        String payload = "y".repeat(1000);
        String[] many = new String[40];
        Arrays.fill(many, payload);
        publish(many);

        SharedRuns.Run run = runs.from(feed, BRACKETED, 1, 512);

        assertThat(run.count()).isEqualTo(SharedRuns.MAX_RUN_BYTES / 1002);
        assertThat(run.bytes().readableBytes()).isLessThanOrEqualTo(SharedRuns.MAX_RUN_BYTES);
    }

    @Test
    void aRunOutlivesTheDrainOnlyInTheWritesHoldingIt() {
        publish("a", "b");
        SharedRuns.Run run = runs.from(feed, BRACKETED, 1, 512);
        ByteBuf written = run.bytes().retainedDuplicate();

        runs.release();

        assertThat(run.bytes().refCnt()).as("a socket's write still holds it").isEqualTo(1);
        assertThat(text(written)).isEqualTo("[a][b]");
        written.release();
        assertThat(run.bytes().refCnt()).isZero();
        assertThat(runs.from(feed, BRACKETED, 1, 512)).as("a new drain builds anew").isNotSameAs(run);
    }
}
