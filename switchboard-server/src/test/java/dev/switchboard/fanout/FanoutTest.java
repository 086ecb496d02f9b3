package dev.switchboard.fanout;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.broker.Handoff;
import dev.switchboard.broker.LoopCommits;
import dev.switchboard.broker.Message;
import dev.switchboard.broker.MessageHeaders;
import dev.switchboard.config.Limits;
import dev.switchboard.config.ServerConfig;
import dev.switchboard.log.EmbeddedBroker;
import dev.switchboard.xray.StageTimer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.EventExecutor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * When a loop's push subscribers are woken: once per loop iteration, after its tasks, or with the answers to the
 * loop's own queued publishes. The test plays the engine on a topic the broker itself never writes, handing each
 * commit to the loop as the writer does ({@link Handoff#batch}, {@link LoopCommits}).
 */
@Timeout(60)
class FanoutTest {
    /** Built anew per call, not cached on the message: encoding slots are few, and the transports take them. */
    private static final SharedEncoding BRACKETED =
            m -> ("[" + new String(m.payload(), StandardCharsets.UTF_8) + "]").getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;

    private EmbeddedBroker broker;
    private MultiThreadIoEventLoopGroup group;
    private EventLoop loop;
    private TopicFeed feed;

    @BeforeEach
    void open() {
        SimpleMeterRegistry metrics = new SimpleMeterRegistry();
        broker = EmbeddedBroker.open(ServerConfig.forTests(dir), metrics);
        feed = new Delivery(broker, Limits.defaults(), metrics, StageTimer.OFF).attach("played");
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        loop = group.next();
    }

    @AfterEach
    void close() {
        group.shutdownGracefully().syncUninterruptibly();
        broker.close();
    }

    /** A commit of one message as the engine tells it: the message, then the commit, handed over as one task. */
    private Runnable commit(long offset, String payload) {
        return commit(offset, payload, null);
    }

    /** The same, answering one write that {@code from}'s loop queued at the engine. */
    private Runnable commit(long offset, String payload, LoopCommits from) {
        Message m = payload == null ? null : new Message("played", offset, 0, "text/plain",
                payload.getBytes(StandardCharsets.UTF_8), MessageHeaders.NONE);
        return () -> Handoff.batch(() -> {
            if (m != null) {
                feed.appended(m);
                feed.committed();
            }
            if (from != null) {
                from.answered();
                from.committed();
            }
        });
    }

    /** Runs two rounds of the loop's tasks: whatever the first round put at the end of its iteration has run. */
    private void iterate() throws Exception {
        loop.submit(() -> {}).sync();
        loop.submit(() -> {}).sync();
    }

    @Test
    void commitsWhoseHandOffsRunInOneLoopIterationReachASubscriberAsOneWrite() throws Exception {
        RecordingSink sink = new RecordingSink(loop);
        Subscription subscription = new Subscription(feed, 1, sink);
        loop.submit(subscription::start).sync();

        // The second commit's hand-off runs after the first's, in the same iteration of the loop (its task queue
        // drains in one go): before, the first hand-off drained at once and the second woke the subscriber again.
        Runnable second = commit(2, "b");
        loop.execute(() -> {
            commit(1, "a").run();
            loop.execute(second);
        });

        Awaitility.await().until(() -> loop.submit(subscription::next).get() == 3);
        assertThat(sink.writes).containsExactly("[a][b]");
    }

    @Test
    void aCommitInALaterIterationIsALaterWriteInOrder() throws Exception {
        RecordingSink sink = new RecordingSink(loop);
        Subscription subscription = new Subscription(feed, 1, sink);
        loop.submit(subscription::start).sync();

        loop.execute(commit(1, "a"));
        Awaitility.await().until(() -> loop.submit(subscription::next).get() == 2);
        loop.execute(commit(2, "b"));
        Awaitility.await().until(() -> loop.submit(subscription::next).get() == 3);

        assertThat(sink.writes).containsExactly("[a]", "[b]");
    }

    @Test
    void aDrainWaitsForTheCommitOfItsLoopsQueuedPublishesAndWritesBothCommitsAtOnce() throws Exception {
        RecordingSink sink = new RecordingSink(loop);
        Subscription subscription = new Subscription(feed, 1, sink);
        loop.submit(subscription::start).sync();
        LoopCommits commits = loop.submit(() -> LoopCommits.of(loop)).get();
        loop.submit(() -> {
            commits.queued(); // two publishes of the loop's own, queued at the engine
            commits.queued();
        }).sync();

        // The first commit answers one of them: the other is still queued, so the drain waits for its commit.
        commit(1, "a", commits).run();
        iterate();
        assertThat(sink.writes).isEmpty();
        commit(2, "b", commits).run();
        Awaitility.await().until(() -> loop.submit(subscription::next).get() == 3);
        assertThat(sink.writes).containsExactly("[a][b]");

        // Nothing of the loop's queued any more: the next commit drains at the end of its iteration.
        commit(3, "c").run();
        Awaitility.await().until(() -> loop.submit(subscription::next).get() == 4);
        assertThat(sink.writes).containsExactly("[a][b]", "[c]");
    }

    @Test
    void aHeldDrainRunsWithTheAnswerEvenWhenThatCommitHasNoMessageForTheTopic() throws Exception {
        RecordingSink sink = new RecordingSink(loop);
        Subscription subscription = new Subscription(feed, 1, sink);
        loop.submit(subscription::start).sync();
        LoopCommits commits = loop.submit(() -> LoopCommits.of(loop)).get();
        loop.submit(() -> {
            commits.queued();
            commits.queued();
        }).sync();

        commit(1, "a", commits).run();
        iterate();
        assertThat(sink.writes).isEmpty();
        commit(0, null, commits).run(); // the other publish, to another topic (or refused): the wait ends here
        Awaitility.await().until(() -> loop.submit(subscription::next).get() == 2);
        assertThat(sink.writes).containsExactly("[a]");
    }

    /** A sink always writable, whose flushes are recorded as the bytes written since the one before. */
    private static final class RecordingSink implements DeliverySink {
        private final EventExecutor executor;
        final List<String> writes = new CopyOnWriteArrayList<>();
        private final StringBuilder pending = new StringBuilder();

        RecordingSink(EventExecutor executor) {
            this.executor = executor;
        }

        @Override
        public EventExecutor executor() {
            return executor;
        }

        @Override
        public String transport() {
            return "test";
        }

        @Override
        public boolean isWritable() {
            return true;
        }

        @Override
        public void deliver(Message message) {
            pending.append(new String(BRACKETED.bytes(message), StandardCharsets.UTF_8));
        }

        @Override
        public SharedEncoding sharedEncoding() {
            return BRACKETED;
        }

        @Override
        public void deliverShared(ByteBuf bytes, int messages) {
            pending.append(bytes.toString(StandardCharsets.UTF_8));
            bytes.release();
        }

        @Override
        public void gap(String topic, long from, long first) {
            pending.append("gap");
        }

        @Override
        public void topicDeleted(String topic) {
            pending.append("deleted");
        }

        @Override
        public void flush() {
            if (!pending.isEmpty()) {
                writes.add(pending.toString());
                pending.setLength(0);
            }
        }
    }
}
