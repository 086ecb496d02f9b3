package dev.switchboard.jmh;

import dev.switchboard.broker.Retention;
import dev.switchboard.log.RocksLog;
import dev.switchboard.log.StoredTopic;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One group commit on the RocksDB log as the log writer does it: N messages of 64 bytes plus the topic's record in one
 * atomic batch, written without fsync (the WAL gets one {@code write()}; fsync=never/batch). Scores are per message:
 * {@code batchOf64} is one batch of 64 per invocation, reported as 64 operations.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class LogAppendBenchmark {
    private static final long TOPIC = 1;
    private static final byte[] PAYLOAD = new byte[64];

    private Path dir;
    private RocksLog log;
    private long last;
    private long bytes;

    @Setup(Level.Trial)
    public void open() throws IOException {
        dir = DataDirectory.create("switchboard-jmh-log");
        log = RocksLog.open(dir);
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        log.close();
        DataDirectory.delete(dir);
    }

    private void commit(int messages) {
        try (RocksLog.Batch batch = log.newBatch()) {
            long now = System.currentTimeMillis();
            for (int i = 0; i < messages; i++) {
                batch.putMessage(TOPIC, ++last, now, "application/octet-stream", PAYLOAD);
                bytes += PAYLOAD.length;
            }
            batch.putTopic(new StoredTopic(TOPIC, "bench", 0, Retention.UNLIMITED, 1, last, bytes));
            log.write(batch, false);
        }
    }

    @Benchmark
    public void batchOf1() {
        commit(1);
    }

    @Benchmark
    @OperationsPerInvocation(64)
    public void batchOf64() {
        commit(64);
    }
}
