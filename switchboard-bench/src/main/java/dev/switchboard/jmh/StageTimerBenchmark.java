package dev.switchboard.jmh;

import dev.switchboard.xray.StageTimer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What stage timing adds to one publish on its connection's loop, by {@code --stage-sample}: the sampling decision,
 * and for a sampled publish two clock reads and the read, decode and store histograms' updates (the store stage's
 * own completion callback is left out). {@code 0} is stage timing off: the price of the checks alone. Compare the
 * figures with a publish's whole cost (BENCHMARKS.md) to judge the default.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class StageTimerBenchmark {
    @Param({"0", "1", "64"})
    public int sampleEvery;

    private PrometheusMeterRegistry metrics;
    private StageTimer stages;
    private int tick;
    private long readMark;

    @Setup
    public void start() {
        metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        stages = new StageTimer(sampleEvery, metrics);
    }

    @TearDown
    public void stop() {
        metrics.close();
    }

    @Benchmark
    public long publish() {
        if (readMark == 0 && stages.enabled()) {
            readMark = System.nanoTime(); // the x-ray handler marks the first read of a request
        }
        long start = 0;
        if (stages.sampled(++tick)) {
            start = System.nanoTime();
            stages.record(StageTimer.Stage.READ, readMark, start);
        }
        readMark = 0;
        long storeStart = stages.decoded(start);
        if (storeStart != 0) {
            stages.record(StageTimer.Stage.STORE, storeStart);
        }
        return storeStart;
    }
}
