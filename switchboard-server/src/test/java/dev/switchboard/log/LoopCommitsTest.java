package dev.switchboard.log;

import static dev.switchboard.broker.Payloads.bytes;
import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.broker.LoopCommits;
import dev.switchboard.broker.PublishResult;
import dev.switchboard.broker.TestTransaction;
import dev.switchboard.config.ServerConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The log writer tells an event loop when the publishes it queued are answered, which a held fan-out drain waits on. */
@Timeout(60)
class LoopCommitsTest {
    @TempDir
    Path dir;

    private EmbeddedBroker broker;
    private MultiThreadIoEventLoopGroup group;
    private EventLoop loop;

    @BeforeEach
    void open() {
        broker = EmbeddedBroker.open(ServerConfig.forTests(dir), new SimpleMeterRegistry());
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        loop = group.next();
    }

    @AfterEach
    void close() {
        group.shutdownGracefully().syncUninterruptibly();
        broker.close();
    }

    @Test
    void workHeldForALoopsPublishRunsOnTheLoopOnceThePublishIsAnsweredAndNothingStaysCounted() throws Exception {
        AtomicReference<CompletableFuture<PublishResult>> published = new AtomicReference<>();
        AtomicBoolean heldRan = new AtomicBoolean();
        AtomicBoolean answeredFirst = new AtomicBoolean();
        boolean held = loop.submit(() -> {
            published.set(broker.append("t", "text/plain", bytes("x"), null));
            // The writer is woken only at the end of this iteration, so the publish is still queued here.
            return LoopCommits.of(loop).holdUntilCommitted(() -> {
                answeredFirst.set(published.get().isDone());
                heldRan.set(loop.inEventLoop());
            });
        }).get();

        assertThat(held).isTrue();
        Awaitility.await().untilTrue(heldRan);
        assertThat(answeredFirst).isTrue();
        // Answered, the loop has nothing queued: a drain now would run at once.
        assertThat(loop.submit(() -> LoopCommits.of(loop).holdUntilCommitted(() -> {})).get()).isFalse();
    }

    @Test
    void aTransactionFailingInTheWriterIsCountedOffToo() throws Exception {
        TestTransaction failing = new TestTransaction(stage -> {
            throw new IllegalStateException("fails while staging");
        });
        AtomicBoolean heldRan = new AtomicBoolean();
        boolean held = loop.submit(() -> {
            broker.submit(failing);
            return LoopCommits.of(loop).holdUntilCommitted(() -> heldRan.set(true));
        }).get();

        assertThat(held).isTrue();
        Awaitility.await().untilTrue(heldRan);
        assertThat(failing.outcome()).isCompletedExceptionally();
        assertThat(loop.submit(() -> LoopCommits.of(loop).holdUntilCommitted(() -> {})).get()).isFalse();
    }
}
