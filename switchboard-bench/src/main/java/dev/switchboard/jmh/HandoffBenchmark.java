package dev.switchboard.jmh;

import dev.switchboard.broker.Handoff;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The log writer's side of answering one commit of 32 publishes from one event loop: 32 tasks handed to a real Netty
 * I/O loop (NIO, the loop type the server runs) one {@code execute} each, as before, or collected by
 * {@link Handoff#batch} and handed over as one task. Per commit of 32; the loop runs the tasks meanwhile (each counts
 * itself), and a producer more than {@value #BACKLOG} tasks ahead waits for it, so the queue stays bounded and a
 * commit's cost includes the loop's wake-ups, which is what the batch saves. Teardown checks that every task ran.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class HandoffBenchmark {
    private static final int TASKS = 32;
    private static final long BACKLOG = 64 * 1024;

    private final AtomicLong ran = new AtomicLong();
    private final Runnable task = ran::incrementAndGet;
    private final Runnable commit = this::answerAll;
    private EventLoopGroup group;
    private Executor loop;
    private long handed;

    @Setup(Level.Trial)
    public void start() {
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        loop = group.next();
    }

    @TearDown(Level.Trial)
    public void stop() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (ran.get() != handed && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        if (ran.get() != handed) {
            throw new IllegalStateException(ran.get() + " of " + handed + " tasks ran");
        }
    }

    private void answerAll() {
        for (int i = 0; i < TASKS; i++) {
            Handoff.execute(loop, task);
        }
    }

    @Benchmark
    public void taskPerAnswer() {
        throttle();
        for (int i = 0; i < TASKS; i++) {
            loop.execute(task);
        }
    }

    @Benchmark
    public void batched() {
        throttle();
        Handoff.batch(commit);
    }

    private void throttle() {
        handed += TASKS;
        while (handed - ran.get() > BACKLOG) {
            Thread.yield(); // not a spin: on a shared core the loop must get the CPU to catch up
        }
    }
}
