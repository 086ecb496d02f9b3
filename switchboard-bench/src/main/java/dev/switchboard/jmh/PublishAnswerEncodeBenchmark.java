package dev.switchboard.jmh;

import dev.switchboard.broker.PublishResult;
import dev.switchboard.codec.http.HttpResponses;
import dev.switchboard.codec.http.TopicEndpoints;
import dev.switchboard.wire.Payloads;
import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.charset.StandardCharsets;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A publish's 201 from its result to the bytes on the wire: built by {@link TopicEndpoints#published} and encoded
 * by Netty's HTTP/1.1 encoder, as on a connection ({@code builtAndEncoded}), against the way it was built before
 * (each part written as a char sequence into the buffer, headers validated, a trailers object per answer:
 * {@code partsWrittenOneByOne}), kept here only as the baseline.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class PublishAnswerEncodeBenchmark {
    private EmbeddedChannel channel;
    private long offset;

    @Setup
    public void start() {
        channel = new EmbeddedChannel(new HttpResponseEncoder());
    }

    @TearDown
    public void stop() {
        channel.finishAndReleaseAll();
    }

    @Benchmark
    public int builtAndEncoded() {
        return EncodedResponses.bytesWritten(channel, TopicEndpoints.published(channel.alloc(), next()));
    }

    @Benchmark
    public int partsWrittenOneByOne() {
        PublishResult r = next();
        String time = Payloads.formatTime(r.time());
        ByteBuf body = channel.alloc().buffer(40 + r.topic().length() + time.length());
        body.writeCharSequence("{\"topic\":\"", StandardCharsets.US_ASCII);
        body.writeCharSequence(r.topic(), StandardCharsets.US_ASCII);
        body.writeCharSequence("\",\"offset\":", StandardCharsets.US_ASCII);
        body.writeCharSequence(Long.toString(r.offset()), StandardCharsets.US_ASCII);
        body.writeCharSequence(",\"time\":\"", StandardCharsets.US_ASCII);
        body.writeCharSequence(time, StandardCharsets.US_ASCII);
        body.writeCharSequence("\"}", StandardCharsets.US_ASCII);
        return EncodedResponses.bytesWritten(channel,
                HttpResponses.withBody(HttpResponseStatus.CREATED, body, HttpHeaderValues.APPLICATION_JSON));
    }

    private PublishResult next() {
        offset++;
        return new PublishResult("bench.wrk", offset, 1_790_000_000_000L + offset, false);
    }
}
