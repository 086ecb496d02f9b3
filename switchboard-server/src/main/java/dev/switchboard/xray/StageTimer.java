package dev.switchboard.xray;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The {@code switchboard_stage_seconds{stage=…}} histograms: how long each stage of the message path takes. A stage is
 * timed for one event in {@link #sampleEvery()} per connection (per event loop for fan-out), so a busy server pays
 * two clock reads and one histogram update for a small share of its events; 0 turns stage timing off.
 */
public final class StageTimer {
    public enum Stage {
        /** From the first bytes of a request or frame read off the socket to the decoded request. */
        READ,
        /** From the decoded request to the call into the log (parsing, validation). */
        DECODE,
        /** From the call into the log to its answer: queueing for the writer, the group commit, fsync included. */
        STORE,
        /** From the commit's signal to an event loop until that loop has pushed to all its subscribers of the topic. */
        FANOUT,
        /** From a subscriber's flush to the bytes being handed to the kernel. */
        WRITE;

        public String tag() {
            return name().toLowerCase();
        }
    }

    /** Histogram buckets: stages run from microseconds (a decode) to seconds (a stalled socket's write). */
    private static final Duration[] BUCKETS = {
        Duration.ofNanos(5_000), Duration.ofNanos(10_000), Duration.ofNanos(25_000), Duration.ofNanos(50_000),
        Duration.ofNanos(100_000), Duration.ofNanos(250_000), Duration.ofNanos(500_000), Duration.ofMillis(1),
        Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
        Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500),
        Duration.ofSeconds(1), Duration.ofSeconds(5)};

    /** Stage timing off, for connections outside a server (handler tests). */
    public static final StageTimer OFF = new StageTimer(0, null);

    /** Changed at run time by an operator ({@link #sampleEvery(int)}); read once per sampled-or-not event. */
    private volatile int sampleEvery;
    private final Map<Stage, Timer> timers = new EnumMap<>(Stage.class);

    /**
     * @param sampleEvery time one event in this many per connection and stage; 0 = off (no histograms at all), 1 =
     *                    every event
     */
    public StageTimer(int sampleEvery, MeterRegistry metrics) {
        if (sampleEvery < 0) {
            throw new IllegalArgumentException("sampleEvery must be >= 0");
        }
        this.sampleEvery = sampleEvery;
        if (metrics != null && sampleEvery > 0) {
            for (Stage s : Stage.values()) {
                timers.put(s, Timer.builder("switchboard.stage").tag("stage", s.tag())
                        .description("Time spent in one stage of the message path (sampled, see --stage-sample)")
                        .serviceLevelObjectives(BUCKETS).register(metrics));
            }
        }
    }

    public int sampleEvery() {
        return sampleEvery;
    }

    /**
     * Times one event in {@code every} from now on, or none with 0 (the histograms stay, with what they have). A
     * server started with stage timing off has no histograms to fill: it can only stay off.
     *
     * @throws IllegalArgumentException for a negative {@code every}, or a positive one when started off
     */
    public void sampleEvery(int every) {
        if (every < 0 || (every > 0 && timers.isEmpty())) {
            throw new IllegalArgumentException(every < 0 ? "sampleEvery must be >= 0"
                    : "stage timing was turned off at start (--stage-sample 0)");
        }
        sampleEvery = every;
    }

    public boolean enabled() {
        return sampleEvery > 0 && !timers.isEmpty();
    }

    /** Whether event number {@code tick} (counted by the caller, from 1) is one to time. */
    public boolean sampled(int tick) {
        int every = sampleEvery;
        return every > 0 && tick % every == 0 && !timers.isEmpty();
    }

    /** Records a stage that started at {@code startNanos} ({@link System#nanoTime()}) and ends now. */
    public void record(Stage stage, long startNanos) {
        record(stage, startNanos, System.nanoTime());
    }

    public void record(Stage stage, long startNanos, long endNanos) {
        Timer t = timers.get(stage);
        if (t != null) {
            t.record(endNanos - startNanos, TimeUnit.NANOSECONDS);
        }
    }

    /**
     * A sampled event ({@code stageStart} from {@link ConnectionStats#stageStart()}, 0 if not sampled) is about to
     * call the log: records its decode stage and returns when its store stage starts (0 if not sampled).
     */
    public long decoded(long stageStart) {
        if (stageStart == 0) {
            return 0;
        }
        long now = System.nanoTime();
        record(Stage.DECODE, stageStart, now);
        return now;
    }

    /** Records the store stage of a sampled event when {@code stored} completes; returns {@code stored}. */
    public <T> java.util.concurrent.CompletableFuture<T> stored(long storeStart,
                                                                java.util.concurrent.CompletableFuture<T> stored) {
        if (storeStart != 0) {
            stored.whenComplete((r, e) -> record(Stage.STORE, storeStart));
        }
        return stored;
    }

    /** Count, total seconds and max seconds per stage, for the dashboard. */
    public Map<String, StageSummary> summary() {
        Map<String, StageSummary> out = new java.util.LinkedHashMap<>();
        timers.forEach((stage, t) -> out.put(stage.tag(), new StageSummary(t.count(),
                t.totalTime(TimeUnit.SECONDS), t.max(TimeUnit.SECONDS))));
        return out;
    }

    public record StageSummary(long count, double totalSeconds, double maxSeconds) {
    }
}
