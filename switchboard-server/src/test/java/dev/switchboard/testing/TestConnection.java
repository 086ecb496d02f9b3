package dev.switchboard.testing;

import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.AbstractEventExecutor;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.MockTicker;
import io.netty.util.concurrent.ScheduledFuture;
import io.netty.util.concurrent.Ticker;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.Queue;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * An {@link EmbeddedChannel} whose event loop the broker's threads may hand work to, as they do to a real one: the
 * fan-out wakes subscribers, and publish acks and fetched messages come back, with {@code execute} from the log
 * writer's thread. The embedded loop is not thread-safe and claims every thread as its own, so here the loop is the
 * test's thread: work from other threads waits in a queue until the test runs pending tasks
 * ({@link #runPendingTasks()}, {@link #runUntil}). Time is the embedded loop's: scheduled tasks run when the test
 * advances it ({@link #advanceTimeBy}).
 */
public final class TestConnection extends EmbeddedChannel {
    private final Thread owner = Thread.currentThread();
    private final Queue<Runnable> fromOtherThreads = new ConcurrentLinkedQueue<>();
    private OwnerLoop loop;
    private boolean runningTasks;
    /** A task was queued on the embedded loop (e.g. by a scheduled one, after the loop's queue was run); owner only. */
    private boolean queuedOnOwner;

    /** The loop's clock, which moves only when the test says so ({@link #advanceTimeBy}). */
    private final MockTicker clock;

    /** A registered, active connection whose handlers {@code install} added before it became active. */
    TestConnection(Consumer<ChannelPipeline> install) {
        this(install, Ticker.newMockTicker());
    }

    // A clock stopped from the start: frozen only after registering, the timers the handlers arm on becoming active
    // would count from a moment before the test's time began, and fire early by however long that moment lasted.
    private TestConnection(Consumer<ChannelPipeline> install, MockTicker clock) {
        super(EmbeddedChannel.builder().register(false).hasDisconnect(true).ticker(clock));
        this.clock = clock;
        install.accept(pipeline()); // before registering, so the handlers see the connection become active
        try {
            register();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void advanceTimeBy(long amount, TimeUnit unit) {
        clock.advance(amount, unit);
    }

    @Override
    public EventLoop eventLoop() {
        EventLoop embedded = super.eventLoop();
        if (loop == null) {
            loop = new OwnerLoop(embedded);
        }
        return loop;
    }

    /**
     * Runs the work other threads handed over, then the embedded loop's tasks, until none is left. Called again from
     * inside one of those tasks it does nothing: EmbeddedChannel calls it after each write a handler makes, and a task
     * run there would run in the middle of that write, which a real loop never does (a fan-out wake-up run inside the
     * HTTP encoder's write re-entered it, so one chunk header went out twice; SseStreamTest failed now and then with
     * IllegalReferenceCountException). The tasks left go on in this loop after the current one.
     */
    @Override
    public void runPendingTasks() {
        if (runningTasks) {
            return;
        }
        runningTasks = true;
        try {
            do {
                queuedOnOwner = false;
                for (Runnable task; (task = fromOtherThreads.poll()) != null; ) {
                    task.run();
                }
                super.runPendingTasks();
            } while (queuedOnOwner || !fromOtherThreads.isEmpty());
        } finally {
            runningTasks = false;
        }
    }

    /** Runs pending tasks until {@code condition} holds (the broker answers from its own threads). */
    public void runUntil(BooleanSupplier condition) {
        await().pollInSameThread().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(2)).until(() -> {
            runPendingTasks();
            return condition.getAsBoolean();
        });
    }

    /** Writes {@code bytes} as the client would, in one read. */
    public void send(byte[] bytes) {
        writeInbound(Unpooled.wrappedBuffer(bytes));
    }

    /** Everything the server wrote since the last call, as bytes on the wire. */
    public byte[] written() {
        runPendingTasks();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Object o; (o = readOutbound()) != null; ) {
            try {
                if (!(o instanceof ByteBuf buf)) {
                    throw new AssertionError("the pipeline wrote " + o.getClass().getName() + ", not bytes");
                }
                byte[] b = new byte[buf.readableBytes()];
                buf.getBytes(buf.readerIndex(), b);
                out.writeBytes(b);
            } finally {
                ReferenceCountUtil.release(o);
            }
        }
        return out.toByteArray();
    }

    /**
     * The test's thread as the channel's loop: tasks other threads hand over wait in a queue for the test to run them;
     * scheduling goes to the embedded loop's clock and is for the loop's own thread only.
     */
    private final class OwnerLoop extends AbstractEventExecutor implements EventLoop {
        private final EventLoop embedded;

        OwnerLoop(EventLoop embedded) {
            this.embedded = embedded;
        }

        @Override
        public boolean inEventLoop(Thread thread) {
            return thread == owner;
        }

        @Override
        public void execute(Runnable task) {
            if (inEventLoop()) {
                queuedOnOwner = true;
                embedded.execute(task);
            } else {
                fromOtherThreads.add(task);
            }
        }

        private void onOwner() {
            if (!inEventLoop()) {
                throw new IllegalStateException("TestConnection: scheduling from another thread is not supported");
            }
        }

        @Override
        public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
            onOwner();
            return embedded.schedule(command, delay, unit);
        }

        @Override
        public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
            onOwner();
            return embedded.schedule(callable, delay, unit);
        }

        @Override
        public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period,
                                                      TimeUnit unit) {
            onOwner();
            return embedded.scheduleAtFixedRate(command, initialDelay, period, unit);
        }

        @Override
        public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay,
                                                         TimeUnit unit) {
            onOwner();
            return embedded.scheduleWithFixedDelay(command, initialDelay, delay, unit);
        }

        @Override
        public Ticker ticker() {
            return embedded.ticker();
        }

        @Override
        public EventLoopGroup parent() {
            return embedded.parent();
        }

        @Override
        public EventLoop next() {
            return this;
        }

        @Override
        public ChannelFuture register(Channel channel) {
            return embedded.register(channel);
        }

        @Override
        public ChannelFuture register(ChannelPromise promise) {
            return embedded.register(promise);
        }

        @Override
        @Deprecated
        public ChannelFuture register(Channel channel, ChannelPromise promise) {
            return embedded.register(channel, promise);
        }

        @Override
        public boolean isShuttingDown() {
            return embedded.isShuttingDown();
        }

        @Override
        public Future<?> shutdownGracefully(long quietPeriod, long timeout, TimeUnit unit) {
            return embedded.shutdownGracefully(quietPeriod, timeout, unit);
        }

        @Override
        public Future<?> terminationFuture() {
            return embedded.terminationFuture();
        }

        @Override
        @Deprecated
        public void shutdown() {
            embedded.shutdown();
        }

        @Override
        public boolean isShutdown() {
            return embedded.isShutdown();
        }

        @Override
        public boolean isTerminated() {
            return embedded.isTerminated();
        }

        @Override
        public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
            return embedded.awaitTermination(timeout, unit);
        }
    }
}
