package dev.switchboard.jmh;

import dev.switchboard.codec.http.HttpResponses;
import dev.switchboard.wire.Payloads;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Parts of a publish's 201 answer. Its time: {@link Payloads#formatTime}, which formats a second once and reuses it,
 * against a {@link DateTimeFormatter} per answer as before; the time advances 1 ms per call, so 1 in 1,000 calls
 * formats a new second (a server answering 1,000+ publishes a second does better). And the former answer as a whole,
 * a map written by Jackson ({@code jacksonMapAnswer}); its replacement, {@code TopicEndpoints.published}, is measured
 * from result to encoded bytes in {@link PublishAnswerEncodeBenchmark}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class PublishAnswerBenchmark {
    /** The API's time format, as {@code Payloads} has it. */
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    private long millis = 1_790_000_000_000L;
    private long offset;

    @Benchmark
    public String formatTimeCached() {
        return Payloads.formatTime(millis++);
    }

    @Benchmark
    public String formatTimeFormatter() {
        return TIME.format(Instant.ofEpochMilli(millis++));
    }

    @Benchmark
    public int jacksonMapAnswer() {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("topic", "bench");
        body.put("offset", ++offset);
        body.put("time", Payloads.formatTime(millis++));
        FullHttpResponse r = HttpResponses.json(PooledByteBufAllocator.DEFAULT, HttpResponseStatus.CREATED, body);
        int length = r.content().readableBytes();
        r.release();
        return length;
    }
}
