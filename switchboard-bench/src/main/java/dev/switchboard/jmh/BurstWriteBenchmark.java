package dev.switchboard.jmh;

import dev.switchboard.codec.BurstWriter;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.util.Arrays;
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
 * One subscriber's burst of {@code burst} shared, pre-encoded frames (a 64-byte message is a ~110-byte WebSocket
 * frame), written and flushed through a channel pipeline: each frame as its own buffer, as the fan-out did, or
 * coalesced by {@link BurstWriter}. Per burst, so divide by {@code burst} for the cost per delivery. The embedded
 * channel stands in for the socket: it measures the pipeline and outbound-buffer work per buffer, not the native
 * transport's copy of heap buffers into direct memory, which only the per-frame path pays.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class BurstWriteBenchmark {
    @Param({"1", "16", "256"})
    public int burst;

    private final byte[] frame = new byte[110];
    private EmbeddedChannel channel;
    private ChannelHandlerContext ctx;
    private BurstWriter writer;

    @Setup
    public void setUp() {
        Arrays.fill(frame, (byte) 'x');
        ChannelInboundHandlerAdapter sink = new ChannelInboundHandlerAdapter();
        channel = new EmbeddedChannel(sink);
        ctx = channel.pipeline().context(sink);
        writer = new BurstWriter(ctx);
    }

    @TearDown
    public void tearDown() {
        channel.finishAndReleaseAll();
    }

    @Benchmark
    public int framePerBuffer() {
        for (int i = 0; i < burst; i++) {
            ctx.write(Unpooled.wrappedBuffer(frame));
        }
        ctx.flush();
        return drain();
    }

    @Benchmark
    public int coalesced() {
        for (int i = 0; i < burst; i++) {
            writer.append(frame);
        }
        writer.flush();
        return drain();
    }

    private int drain() {
        int buffers = 0;
        Object written;
        while ((written = channel.readOutbound()) != null) {
            ReferenceCountUtil.release(written);
            buffers++;
        }
        return buffers;
    }
}
