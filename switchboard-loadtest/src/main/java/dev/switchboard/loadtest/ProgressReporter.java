package dev.switchboard.loadtest;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** Prints the current status line once per second on its own thread, so no event loop ever waits on a console. */
final class ProgressReporter implements AutoCloseable {
    private final PrintWriter err;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(task -> {
        Thread thread = new Thread(task, "bench-progress");
        thread.setDaemon(true);
        return thread;
    });
    private ScheduledFuture<?> ticks;

    ProgressReporter(PrintWriter err) {
        this.err = err;
    }

    /**
     * Prints {@code status} each second from now on, in place of the previous one; the supplier is only ever
     * called from the reporter's thread. Restarting the ticks keeps lines on whole seconds of the new phase.
     */
    synchronized void show(Supplier<String> status) {
        stopTicks();
        ticks = timer.scheduleAtFixedRate(() -> print(status.get()), 1, 1, TimeUnit.SECONDS);
    }

    synchronized void stopTicks() {
        if (ticks != null) {
            ticks.cancel(false);
        }
    }

    /** The phase of a timed run at {@code now}, padded to one width: warmup, measure, then drain. */
    static String phase(long now, long measureStartNanos, Duration duration) {
        return now < measureStartNanos ? "warmup "
                : now < measureStartNanos + duration.toNanos() ? "measure" : "drain  ";
    }

    private void print(String line) {
        err.println(line);
        err.flush();
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
