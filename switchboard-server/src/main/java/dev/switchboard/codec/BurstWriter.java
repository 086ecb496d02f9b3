package dev.switchboard.codec;

import dev.switchboard.xray.ConnectionStats;
import dev.switchboard.xray.StageTimer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import java.util.function.Function;

/**
 * Writes a subscriber's burst of pre-encoded messages as a few large direct buffers instead of one buffer per
 * message. Each message's bytes are built once and shared by every subscriber (docs/architecture.md, "Encode once"); writing them
 * one by one cost, per subscriber and message, a pass down the pipeline, an outbound-buffer entry, and a copy into
 * a direct buffer for the socket anyway (the native transports write only direct memory). Copying small messages
 * into one pooled direct buffer is a memcpy of the same bytes and saves the rest; large messages are written as
 * they are, where the copy is the kernel's cost, not ours.
 *
 * <p>Each buffer handed to the channel goes through {@code frame} first: as it is for bytes that are already the
 * wire form (WebSocket frames), or as one {@code HttpContent} of a streaming response, which the HTTP encoder frames
 * (SSE). Anything else written to the channel must go after {@link #writePending()}, so the order on the wire is the
 * order of the calls. Threads: the channel's event loop only.
 */
public final class BurstWriter {
    /** Messages larger than this are written on their own. */
    static final int COALESCE_MAX_BYTES = 4 * 1024;
    /** A pending buffer is written once it holds this much, so the channel's writability sees the burst grow. */
    static final int CHUNK_BYTES = 32 * 1024;
    /**
     * A burst's buffer starts this small and grows as messages are appended: the first message to many idle
     * subscribers is one small frame each, all in flight at once, and the pool keeps the memory they took.
     */
    private static final int INITIAL_BYTES = 256;

    /** Where the writes enter the pipeline: they pass the handlers between it and the socket. */
    private final ChannelHandlerContext ctx;
    private final Function<ByteBuf, ?> frame;
    private final StageTimer stages;
    /** Non-null when {@link #ctx} is the x-ray's own: the writes skip its counter, so they are counted here. */
    private final ConnectionStats countedHere;
    /** Whether writes carry the void promise ({@link #below}: bytes that pass no encoder on their way). */
    private final boolean voidWrites;
    private ByteBuf pending;
    /** Whether something was written since the last flush; the first write of a burst decides {@link #timed}. */
    private boolean writing;
    private boolean timed;
    /** The last write of a timed burst, for its write stage. */
    private ChannelFuture lastWrite;
    private int flushes;

    /** Writes the buffers as they are. */
    public BurstWriter(ChannelHandlerContext ctx) {
        this(ctx, Function.identity());
    }

    /** Writes each buffer as {@code frame} wraps it. */
    public BurstWriter(ChannelHandlerContext ctx, Function<ByteBuf, ?> frame) {
        this(ctx, frame, null, false);
    }

    private BurstWriter(ChannelHandlerContext ctx, Function<ByteBuf, ?> frame, ConnectionStats countedHere,
                        boolean voidWrites) {
        this.ctx = ctx;
        this.frame = frame;
        this.countedHere = countedHere;
        this.voidWrites = voidWrites;
        this.stages = ConnectionStats.of(ctx.channel()).stages();
    }

    /**
     * Writes bytes that are already the wire form from below {@code encoder}'s handler, so they do not pass it: from
     * the socket's edge of the pipeline when nothing between the two handles writes but the x-ray (a WebSocket in
     * clear text), else from the encoder's context (TLS, an HTTP/2 stream). The pipeline write per socket and wake-up
     * was the largest part of the fan-out's drain (BENCHMARKS.md, "Fan-out CPU per delivery"). Its writes carry the
     * channel's void promise (nothing listens to them; a failed one fires {@code exceptionCaught}, and the connection
     * closes anyway), except in a burst whose write stage is sampled.
     */
    public static BurstWriter below(ChannelHandlerContext encoder) {
        ConnectionStats stats = ConnectionStats.of(encoder.channel());
        ChannelHandlerContext edge = stats.edgeBelow(encoder);
        return edge == null ? new BurstWriter(encoder, Function.identity(), null, true)
                : new BurstWriter(edge, Function.identity(), stats, true);
    }

    /** Queues {@code bytes}, which must not change afterwards; nothing reaches the channel before a write or flush. */
    public void append(byte[] bytes) {
        append(bytes, 0);
    }

    /** Queues {@code bytes} from index {@code from} on (an event shared by many streams, without its first line). */
    public void append(byte[] bytes, int from) {
        int length = bytes.length - from;
        if (length > COALESCE_MAX_BYTES) {
            writePending();
            write(Unpooled.wrappedBuffer(bytes, from, length));
            return;
        }
        room(length).writeBytes(bytes, from, length);
    }

    /**
     * Writes {@code bytes} after what is pending: a run of messages shared with other sockets (the channel releases
     * this reference once written), already one buffer, so it is not copied.
     */
    public void appendShared(ByteBuf bytes) {
        writePending();
        write(bytes);
    }

    /** Queues {@code value} (not negative) in ASCII decimal, with no allocation: a length in a protocol's line. */
    public void appendDecimal(long value) {
        int digits = 1;
        for (long v = value; v >= 10; v /= 10) {
            digits++;
        }
        ByteBuf out = room(digits);
        int end = out.writerIndex() + digits;
        long v = value;
        for (int i = end - 1; i >= end - digits; i--) {
            out.setByte(i, '0' + (int) (v % 10));
            v /= 10;
        }
        out.writerIndex(end);
    }

    /** The pending buffer, with room for {@code bytes} more (at most {@link #COALESCE_MAX_BYTES}). */
    private ByteBuf room(int bytes) {
        if (pending != null && pending.writerIndex() + bytes > CHUNK_BYTES) {
            writePending();
        }
        if (pending == null) {
            pending = ctx.alloc().directBuffer(Math.max(INITIAL_BYTES, bytes), CHUNK_BYTES);
        }
        pending.ensureWritable(bytes);
        return pending;
    }

    /** Hands what was appended to the channel (without flushing). */
    public void writePending() {
        if (pending != null) {
            ByteBuf out = pending;
            pending = null;
            write(out);
        }
    }

    private void write(ByteBuf bytes) {
        if (!writing) {
            writing = true;
            timed = stages.sampled(++flushes);
        }
        if (countedHere != null) {
            countedHere.bytesOut(bytes.readableBytes());
        }
        if (timed) {
            lastWrite = ctx.write(frame.apply(bytes));
        } else if (voidWrites) {
            ctx.write(frame.apply(bytes), ctx.voidPromise());
        } else {
            ctx.write(frame.apply(bytes));
        }
    }

    /** Flushes; a sampled burst records the write stage: until its last write is handed to the kernel. */
    public void flush() {
        writePending();
        ChannelFuture last = lastWrite;
        lastWrite = null;
        writing = false;
        if (last != null) {
            long started = System.nanoTime();
            last.addListener(f -> stages.record(StageTimer.Stage.WRITE, started));
        }
        ctx.flush();
    }

    /** The connection ended: drops anything not yet written. */
    public void discard() {
        lastWrite = null;
        writing = false;
        if (pending != null) {
            pending.release();
            pending = null;
        }
    }
}
