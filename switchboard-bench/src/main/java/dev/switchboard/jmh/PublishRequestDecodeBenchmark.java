package dev.switchboard.jmh;

import dev.switchboard.codec.http.BodyAggregator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequestDecoder;
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
 * A publish request as the load tool sends it (64-byte body, Host, Content-Type, Content-Length), from its bytes to
 * the full request the router gets: Netty's HTTP/1.1 decoder and the server's {@link BodyAggregator}
 * ({@code bodyAggregator}), against Netty's aggregator, which the server used before ({@code nettyAggregator}).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class PublishRequestDecodeBenchmark {
    private static final byte[] REQUEST = ("POST /v1/topics/bench.fanout/messages HTTP/1.1\r\nhost: 127.0.0.1:8080\r\n"
            + "content-type: text/plain\r\ncontent-length: 64\r\n\r\n" + "x".repeat(64))
            .getBytes(StandardCharsets.US_ASCII);

    private EmbeddedChannel server;
    private EmbeddedChannel netty;
    private final ByteBuf request = Unpooled.directBuffer(REQUEST.length).writeBytes(REQUEST);

    @Setup
    public void start() {
        server = new EmbeddedChannel(new HttpRequestDecoder(), new BodyAggregator(1024 * 1024));
        netty = new EmbeddedChannel(new HttpRequestDecoder(), new HttpObjectAggregator(1024 * 1024));
    }

    @TearDown
    public void stop() {
        server.finishAndReleaseAll();
        netty.finishAndReleaseAll();
        request.release();
    }

    @Benchmark
    public int bodyAggregator() {
        return decoded(server);
    }

    @Benchmark
    public int nettyAggregator() {
        return decoded(netty);
    }

    private int decoded(EmbeddedChannel channel) {
        channel.writeInbound(request.retainedDuplicate());
        FullHttpRequest r = channel.readInbound();
        int bytes = r.content().readableBytes();
        r.release();
        return bytes;
    }
}
