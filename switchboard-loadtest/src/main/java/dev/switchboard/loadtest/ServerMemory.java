package dev.switchboard.loadtest;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A server process's memory as the kernel sees it, from {@code /proc/PID/status}: {@code VmRSS} (resident now) and
 * {@code VmHWM} (the most it was ever resident). Without a pid nothing is measured and every figure is -1.
 */
final class ServerMemory {
    /** One reading, in bytes; -1 when not measured. */
    record Reading(long rssBytes, long hwmBytes) {
        static final Reading NONE = new Reading(-1, -1);
    }

    private final long pid;

    /** @param pid the server's process id, or a negative number for none */
    ServerMemory(long pid) {
        this.pid = pid;
    }

    /** The memory of process {@code pid}; without one (negative), says on {@code err} that none is measured. */
    static ServerMemory of(long pid, PrintWriter err) {
        if (pid < 0) {
            err.println("no --server-pid: the server's memory is not measured (rss fields are -1)");
        }
        return new ServerMemory(pid);
    }

    boolean measured() {
        return pid >= 0;
    }

    /**
     * Reads the process's status now.
     *
     * @throws IOException if it cannot be read (the process has ended?) or has no {@code VmRSS}
     */
    Reading read() throws IOException {
        if (!measured()) {
            return Reading.NONE;
        }
        Path status = Path.of("/proc", Long.toString(pid), "status");
        try {
            return parse(Files.readAllLines(status), status.toString());
        } catch (IOException e) {
            throw new IOException("cannot read the server's memory from " + status + ": " + e.getMessage(), e);
        }
    }

    /** The resident set size in bytes, or -1 without a pid. */
    long rss() throws IOException {
        return read().rssBytes();
    }

    /** The {@code VmRSS} and {@code VmHWM} lines of a status file ({@code kB}); no {@code VmHWM} reads as -1. */
    static Reading parse(List<String> lines, String source) throws IOException {
        long rss = -1;
        long hwm = -1;
        try {
            for (String line : lines) {
                if (line.startsWith("VmRSS:")) {
                    rss = kilobytes(line);
                } else if (line.startsWith("VmHWM:")) {
                    hwm = kilobytes(line);
                }
            }
        } catch (NumberFormatException e) {
            throw new IOException(source + " has an unreadable memory line: " + e.getMessage(), e);
        }
        if (rss < 0) {
            throw new IOException(source + " has no VmRSS line (is it a kernel thread?)");
        }
        return new Reading(rss, hwm);
    }

    private static long kilobytes(String line) {
        return Long.parseLong(line.substring(line.indexOf(':') + 1).replace("kB", "").strip()) * 1024;
    }

    /**
     * Reads {@code VmRSS} every {@code periodMillis} on its own thread until {@link #stop}, keeping the largest;
     * stop it before reading {@link #peak}.
     */
    Sampler sample(long periodMillis) {
        return new Sampler(periodMillis);
    }

    final class Sampler {
        private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "bench-rss-sampler");
            thread.setDaemon(true);
            return thread;
        });
        private final AtomicLong peak = new AtomicLong(-1);
        private final AtomicLong latest = new AtomicLong(-1);
        private final AtomicReference<IOException> failure = new AtomicReference<>();

        private Sampler(long periodMillis) {
            if (measured()) {
                timer.scheduleAtFixedRate(this::sampleOnce, 0, periodMillis, TimeUnit.MILLISECONDS);
            }
        }

        private void sampleOnce() {
            try {
                long rss = rss();
                latest.set(rss);
                peak.accumulateAndGet(rss, Math::max);
            } catch (IOException e) {
                failure.compareAndSet(null, e);
            }
        }

        /** The latest reading, -1 before the first; for progress lines. */
        long latest() {
            return latest.get();
        }

        /**
         * Stops sampling and returns the largest reading, or -1 without a pid.
         *
         * @throws IOException if a reading failed
         */
        long stop() throws IOException, InterruptedException {
            timer.shutdown();
            timer.awaitTermination(5, TimeUnit.SECONDS);
            if (failure.get() != null) {
                throw failure.get();
            }
            return peak.get();
        }
    }
}
