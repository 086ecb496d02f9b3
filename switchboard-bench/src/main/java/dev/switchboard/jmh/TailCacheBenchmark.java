package dev.switchboard.jmh;

import dev.switchboard.broker.Message;
import dev.switchboard.fanout.TailBudget;
import dev.switchboard.fanout.TailCache;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A topic's in-memory tail with the broker's sizes (1024 slots, 4 MiB): appending on the writer thread (a full cache,
 * so every add also evicts the oldest) and lookups of a held and of an evicted offset, as readers do.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class TailCacheBenchmark {
    private static final int SLOTS = 1024;
    private static final byte[] PAYLOAD = new byte[64];

    private TailCache cache;
    private long next;
    private long probe;

    @Setup
    public void setUp() {
        cache = new TailCache(SLOTS, 4L * 1024 * 1024, new TailBudget(Long.MAX_VALUE));
        for (next = 1; next <= 4 * SLOTS; next++) {
            cache.add(new Message("t", next, 0, "text/plain", PAYLOAD));
        }
    }

    @Benchmark
    public void add() {
        cache.add(new Message("t", next, 0, "text/plain", PAYLOAD));
        next++;
    }

    /** A held offset, walking through the newest half so successive lookups touch different slots. */
    @Benchmark
    public Message getHit() {
        probe = (probe + 1) & (SLOTS / 2 - 1);
        return cache.get(next - 1 - probe);
    }

    @Benchmark
    public Message getMiss() {
        probe = (probe + 1) & (SLOTS / 2 - 1);
        return cache.get(next - 2 * SLOTS - probe);
    }
}
