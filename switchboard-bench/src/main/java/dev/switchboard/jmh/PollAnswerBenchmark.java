package dev.switchboard.jmh;

import dev.switchboard.broker.Message;
import dev.switchboard.codec.longpoll.PollEndpoint;
import dev.switchboard.fanout.ReadResult;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpResponseEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
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
 * A woken long poll's answer from its read to the bytes on the wire: built by {@link PollEndpoint#encode} and encoded
 * by Netty's HTTP/1.1 encoder, as on a connection. One message, as each of {@code bench longpoll}'s answers carries;
 * run with {@code -prof gc} for the bytes allocated per answer (BENCHMARKS.md has it against the Jackson-built answer
 * this replaced).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class PollAnswerBenchmark {
    /** text: {@code bench longpoll}'s 64 B ASCII payload; json: a JSON object of 64 B. */
    @Param({"text", "json"})
    public String kind;

    private EmbeddedChannel channel;
    private byte[] payload;
    private String type;
    private long offset;

    @Setup
    public void start() {
        channel = new EmbeddedChannel(new HttpResponseEncoder());
        type = kind.equals("json") ? "application/json" : "text/plain";
        String body = kind.equals("json") ? "{\"text\":\"" + "a".repeat(52) + "\"}" : "x".repeat(64);
        payload = body.getBytes(StandardCharsets.UTF_8);
    }

    @TearDown
    public void stop() {
        channel.finishAndReleaseAll();
    }

    @Benchmark
    public int builtAndEncoded() {
        return EncodedResponses.bytesWritten(channel, PollEndpoint.encode(channel.alloc(), next()));
    }

    private ReadResult next() {
        offset++;
        return new ReadResult("bench-poll.abc.t1", List.of(new Message("bench-poll.abc.t1", offset,
                1_790_000_000_000L + offset, type, payload)), offset + 1, false);
    }
}
