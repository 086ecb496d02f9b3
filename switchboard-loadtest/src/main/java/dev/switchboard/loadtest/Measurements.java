package dev.switchboard.loadtest;

import java.util.List;
import java.util.Locale;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;

/**
 * What one run measures. Event-loop threads write it; the main thread reads the live counters for progress
 * and everything else once the event loops have stopped. Latencies go to one histogram per event-loop thread,
 * so recording needs no synchronisation; they are merged at the end.
 */
final class Measurements {

    /** Kinds of failure counted while the run goes on; ordering checks are added at the end. */
    enum ErrorKind { PUBLISH, DISCONNECT, PROTOCOL }

    /** Latencies above this are recorded as this; an hour means the run is broken anyway. */
    static final long HIGHEST_MICROS = TimeUnit.HOURS.toMicros(1);
    private static final int MAX_SAMPLES = 10;

    final LongAdder published = new LongAdder();
    final LongAdder delivered = new LongAdder();
    final AtomicInteger subscribeAcks = new AtomicInteger();

    private final AtomicLongArray errors = new AtomicLongArray(ErrorKind.values().length);
    private final Queue<String> errorSamples = new ConcurrentLinkedQueue<>();
    private final Queue<LoopStats> loops = new ConcurrentLinkedQueue<>();
    private final ThreadLocal<LoopStats> local = ThreadLocal.withInitial(() -> {
        LoopStats stats = new LoopStats();
        loops.add(stats);
        return stats;
    });

    /** Deliveries the subscribers may lag behind the publishes, summed over subscribers; see {@link #boundBacklog}. */
    private volatile long maxBacklog = Long.MAX_VALUE;
    private volatile int subscribers;

    /** Messages sent before this instant are warmup: delivered and checked, but not measured. */
    private volatile long measureStartNanos = Long.MAX_VALUE;
    /** Set when the benchmark closes connections itself, so those closes are not failures. */
    private volatile boolean closing;

    void startMeasuringAt(long nanos) {
        measureStartNanos = nanos;
    }

    boolean closing() {
        return closing;
    }

    void closeAll() {
        closing = true;
    }

    /** The calling event-loop thread's statistics; a handler binds it once, on its own loop. */
    LoopStats forCurrentThread() {
        return local.get();
    }

    /**
     * Publishers hold back while the subscribers, on average, are more than {@code perSubscriber} messages behind
     * the acknowledged publishes: "as fast as possible" then means as fast as the subscribers receive, so a run
     * measures sustained delivery, not how long a backlog the target will keep (Redis and NATS drop subscribers
     * past their buffer limits; Switchboard's subscribers catch up from the log).
     */
    void boundBacklog(int subscriberCount, long perSubscriber) {
        subscribers = subscriberCount;
        maxBacklog = subscriberCount * perSubscriber;
    }

    /** Whether publishers should wait for the subscribers (always false without {@link #boundBacklog}). */
    boolean backlogFull() {
        return maxBacklog != Long.MAX_VALUE && published.sum() * subscribers - delivered.sum() > maxBacklog;
    }

    void error(ErrorKind kind, String detail) {
        errors.incrementAndGet(kind.ordinal());
        if (errorSamples.size() < MAX_SAMPLES) {
            errorSamples.add(kind.name().toLowerCase(Locale.ROOT) + ": " + detail);
        }
    }

    long errors(ErrorKind kind) {
        return errors.get(kind.ordinal());
    }

    /** Errors of every kind. */
    long errorsTotal() {
        long total = 0;
        for (int i = 0; i < errors.length(); i++) {
            total += errors.get(i);
        }
        return total;
    }

    List<String> errorSamples() {
        return List.copyOf(errorSamples);
    }

    /** Call only once the event loops have terminated. */
    Histogram latencyMicros() {
        Histogram all = new Histogram(HIGHEST_MICROS, 3);
        loops.forEach(stats -> all.add(stats.latencyMicros[1]));
        return all;
    }

    /** Publish-to-acknowledgement latencies of measured publishes; call only once the event loops have terminated. */
    Histogram ackLatencyMicros() {
        Histogram all = new Histogram(HIGHEST_MICROS, 3);
        loops.forEach(stats -> all.add(stats.ackLatencyMicros[1]));
        return all;
    }

    /** Call only once the event loops have terminated. */
    long measuredDeliveries() {
        return loops.stream().mapToLong(stats -> stats.deliveries[1]).sum();
    }

    /** When the last measured message arrived, or {@link Long#MIN_VALUE} if none did. */
    long lastDeliveryNanos() {
        return loops.stream().mapToLong(stats -> stats.lastDeliveryNanos[1]).max().orElse(Long.MIN_VALUE);
    }

    /**
     * 1 if a message sent at {@code sentNanos} is measured ({@code sentNanos >= measureStartNanos}), else 0, without
     * a branch: a branch the warm-up never takes is compiled as a trap, so at the switch to measuring the readers'
     * and publishers' hot paths were thrown away and ran interpreted until compiled again, inside the measured time
     * (-XX:+PrintCompilation: "made not entrant: uncommon trap" for {@code SseSubscriber.onEvent} and the rest as
     * measuring began). Warm-up messages take the same path, into slots that nothing reads.
     */
    int measured(long sentNanos) {
        long start = measureStartNanos;
        long difference = sentNanos - start;
        // the sign of sentNanos - start corrected for overflow (Hacker's Delight 2-12): 1 when sentNanos < start
        long before = (difference ^ ((sentNanos ^ start) & (difference ^ sentNanos))) >>> 63;
        return (int) (1 - before);
    }

    /** Deliveries seen by one event-loop thread. */
    final class LoopStats {
        /** Per phase, indexed by {@link #measured}: [0] the warm-up's, read by nothing, [1] the measured time's. */
        private final Histogram[] latencyMicros = {new Histogram(HIGHEST_MICROS, 3), new Histogram(HIGHEST_MICROS, 3)};
        private final Histogram[] ackLatencyMicros = {new Histogram(HIGHEST_MICROS, 3),
            new Histogram(HIGHEST_MICROS, 3)};
        private final long[] deliveries = new long[2];
        private final long[] lastDeliveryNanos = {Long.MIN_VALUE, Long.MIN_VALUE};
        /** Deliveries not yet added to {@link #delivered}. */
        private long unflushed;

        /**
         * A message sent at {@code sentNanos} arrived in a read taken at {@code readNanos}. Counted here, added to
         * the shared {@link #delivered} by {@link #flushDelivered} once per read.
         */
        void delivered(long sentNanos, long readNanos) {
            unflushed++;
            int phase = measured(sentNanos);
            record(latencyMicros[phase], readNanos - sentNanos);
            deliveries[phase]++;
            lastDeliveryNanos[phase] = readNanos;
        }

        /**
         * Adds the deliveries counted since the last call to the shared {@link #delivered}: once per socket read, not
         * per message, so the reader threads do not take turns on the counter's cache lines (which the publishers
         * also read, for {@link #backlogFull}) for every SSE event. Progress and the backlog bound lag by one read.
         */
        void flushDelivered() {
            if (unflushed != 0) {
                delivered.add(unflushed);
                unflushed = 0;
            }
        }

        /** The target acknowledged a publish sent at {@code sentNanos}. */
        void acked(long sentNanos) {
            record(ackLatencyMicros[measured(sentNanos)], System.nanoTime() - sentNanos);
        }

        private static void record(Histogram micros, long nanos) {
            micros.recordValue(Math.min(Math.max(0, nanos / 1_000), HIGHEST_MICROS));
        }
    }
}
