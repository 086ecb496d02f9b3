package dev.switchboard.xray;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.EventExecutorGroup;
import java.util.concurrent.TimeUnit;

/**
 * {@code switchboard_event_loop_lag_seconds}: how late a task scheduled on each event loop runs, probed once a second.
 * A loop that blocks or has too much to do delays every connection it owns by that much.
 */
public final class EventLoopLag {
    private static final long PERIOD_NANOS = TimeUnit.SECONDS.toNanos(1);

    private EventLoopLag() {
    }

    /** Probes every loop of {@code group} until it shuts down. */
    public static void watch(EventExecutorGroup group, MeterRegistry metrics) {
        Timer lag = Timer.builder("switchboard.event.loop.lag")
                .description("How late a task scheduled on an event loop ran (probed each second per loop)")
                .register(metrics);
        for (EventExecutor loop : group) {
            probe(loop, lag);
        }
    }

    private static void probe(EventExecutor loop, Timer lag) {
        if (loop.isShuttingDown()) {
            return;
        }
        long due = System.nanoTime() + PERIOD_NANOS;
        try {
            loop.schedule(() -> {
                lag.record(Math.max(0, System.nanoTime() - due), TimeUnit.NANOSECONDS);
                probe(loop, lag);
            }, PERIOD_NANOS, TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // the loop is shutting down
        }
    }
}
