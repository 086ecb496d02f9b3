package dev.switchboard.jmh;

import dev.switchboard.codec.BurstWriter;
import dev.switchboard.xray.ConnectionRegistry;
import dev.switchboard.xray.StageTimer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;
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
 * One wake-up of a loop's fan-out: {@code burst} new ~110-byte WebSocket frames to each of {@code subscribers}
 * sockets, all at the same offset. {@code copied}: each subscriber copies the frames into a pooled buffer of its own
 * ({@link BurstWriter#append}), as the fan-out did; {@code shared}: the frames are copied once into one direct buffer
 * and each subscriber writes a retained duplicate of it ({@link BurstWriter#appendShared}), as
 * {@code fanout.SharedRuns} does. Per wake-up: divide by {@code subscribers * burst} for the cost per delivery.
 * Embedded channels stand in for sockets: the pipeline and outbound-buffer work, not the kernel's. {@code path}:
 * {@code bare}, a channel with the sink alone; {@code handler}, an upgraded WebSocket's outbound handlers (the x-ray
 * counter, the frame encoder) below the sink, which writes from its own context as the session did; {@code edge}, the
 * same pipeline written from below the encoder ({@link BurstWriter#below}), as the session does.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class SharedRunBenchmark {
    @Param({"1", "16"})
    public int burst;

    @Param({"100"})
    public int subscribers;

    @Param({"bare", "handler", "edge"})
    public String path;

    private final byte[] frame = new byte[110];
    private EmbeddedChannel[] channels;
    private BurstWriter[] writers;

    @Setup
    public void setUp() {
        Arrays.fill(frame, (byte) 'x');
        channels = new EmbeddedChannel[subscribers];
        writers = new BurstWriter[subscribers];
        ConnectionRegistry registry = new ConnectionRegistry(StageTimer.OFF, "embedded", new SimpleMeterRegistry());
        for (int i = 0; i < subscribers; i++) {
            ChannelInboundHandlerAdapter sink = new ChannelInboundHandlerAdapter();
            WebSocket13FrameEncoder encoder = new WebSocket13FrameEncoder(false);
            channels[i] = path.equals("bare") ? new EmbeddedChannel(sink)
                    : new EmbeddedChannel(registry.newConnection(), encoder, sink);
            ChannelHandlerContext ctx = channels[i].pipeline().context(sink);
            writers[i] = path.equals("edge") ? BurstWriter.below(channels[i].pipeline().context(encoder))
                    : new BurstWriter(ctx);
        }
    }

    @TearDown
    public void tearDown() {
        for (EmbeddedChannel c : channels) {
            c.finishAndReleaseAll();
        }
    }

    @Benchmark
    public int copied() {
        for (BurstWriter w : writers) {
            for (int i = 0; i < burst; i++) {
                w.append(frame);
            }
            w.flush();
        }
        return drain();
    }

    @Benchmark
    public int shared() {
        ByteBuf run = ByteBufAllocator.DEFAULT.directBuffer(frame.length * burst);
        for (int i = 0; i < burst; i++) {
            run.writeBytes(frame);
        }
        for (BurstWriter w : writers) {
            w.appendShared(run.retainedDuplicate());
            w.flush();
        }
        run.release();
        return drain();
    }

    /** What the socket would send, released as the kernel's copy would free it. */
    private int drain() {
        int buffers = 0;
        for (EmbeddedChannel c : channels) {
            Object written;
            while ((written = c.readOutbound()) != null) {
                ReferenceCountUtil.release(written);
                buffers++;
            }
        }
        return buffers;
    }
}
