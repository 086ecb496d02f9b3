package dev.switchboard.jmh;

import dev.switchboard.config.FsyncPolicy;
import dev.switchboard.config.ServerConfig;
import dev.switchboard.jobs.Job;
import dev.switchboard.jobs.JobService;
import dev.switchboard.jobs.QueueSettings;
import dev.switchboard.log.EmbeddedBroker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
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
 * One job end to end on the embedded engine, below HTTP: submit, wait for its end as a submit with {@code ?wait=}
 * does, claim, complete, and the waiter handed the finished job. Three commits on the log writer (fsync never) and
 * the hand-offs between the caller and the writer; what the HTTP exchanges add is not in it. The score is the time
 * per job of one caller doing them in turn. The job's topic {@code _jobs.<id>} is written only when someone reads
 * it: {@link #submitWaitClaimComplete} is the common job, read by nobody; {@link #submitWaitClaimCompleteRead} reads
 * its events afterwards, as a follower of the topic would, which writes the topic out in a fourth commit.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class JobLifecycleBenchmark {
    private static final String QUEUE = "bench";
    private static final String TYPE = "text/plain";
    private static final byte[] PAYLOAD = "x".repeat(64).getBytes(StandardCharsets.US_ASCII);
    private static final Duration WAIT = Duration.ofSeconds(30);

    private Path dir;
    private EmbeddedBroker broker;
    private JobService jobs;
    private ScheduledExecutorService timer;

    @Setup(Level.Trial)
    public void open() throws IOException {
        dir = DataDirectory.create("switchboard-jmh-jobs");
        ServerConfig config = ServerConfig.forTests(dir).withFsync(FsyncPolicy.NEVER);
        broker = EmbeddedBroker.open(config, new SimpleMeterRegistry());
        jobs = new JobService(broker, config.limits());
        timer = Executors.newSingleThreadScheduledExecutor();
        // Finished jobs go after a second (checked every minute), so a long run does not keep every job it made.
        jobs.configure(QUEUE, new QueueSettings(3, Duration.ofSeconds(60), Duration.ofSeconds(1))).join();
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        jobs.close();
        broker.close();
        timer.shutdownNow();
        DataDirectory.delete(dir);
    }

    @Benchmark
    public Job submitWaitClaimComplete() {
        Job submitted = jobs.submit(QUEUE, TYPE, PAYLOAD, null).join();
        CompletableFuture<Job> finished = jobs.awaitFinished(submitted, WAIT, timer);
        JobService.Claimed claimed = jobs.claim(QUEUE, 1, Duration.ZERO, null, timer).join().getFirst();
        jobs.complete(claimed.job().id(), claimed.job().leaseToken(), TYPE, claimed.payload()).join();
        return finished.join();
    }

    @Benchmark
    public int submitWaitClaimCompleteRead() {
        Job finished = submitWaitClaimComplete();
        return jobs.readers().read(JobService.topicOf(finished.id()), 1, 16, Long.MAX_VALUE).join().size();
    }
}
