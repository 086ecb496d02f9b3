package dev.switchboard.loadtest;

import dev.switchboard.loadtest.Measurements.ErrorKind;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One publisher connection's pacing, whatever the protocol: up to {@code window} messages unconfirmed; with a
 * rate, message {@code n} is due at {@code start + n / rate} and a 1 ms tick sends whatever is due (catching up in
 * bursts if confirmations were slow); without one, every confirmation frees a slot for the next message. The
 * target confirms a connection's messages in the order they were sent, so a FIFO of send times pairs each
 * confirmation with its message. Subclasses write messages and report confirmations. Offsets confirmed on one
 * connection must increase (unless {@link #offsetsIncrease} says its messages go to different logs).
 */
abstract class PacedPublisher<I> extends SimpleChannelInboundHandler<I> implements Publisher {
    private static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    protected final Measurements measurements;
    protected final CompletableFuture<Void> ready = new CompletableFuture<>();
    private final double messagesPerNano;
    private final long[] sendTimes;
    private final CompletableFuture<Void> done = new CompletableFuture<>();

    protected ChannelHandlerContext ctx;
    private ScheduledFuture<?> ticker;
    private long startNanos;
    private long stopNanos;
    private long maxMessages;
    private Measurements.LoopStats stats;
    private int oldest;
    private int inflight;
    private long sent;
    private long acked;
    private long measuredAcked;
    private long firstOffset = Long.MAX_VALUE;
    private long lastOffset = Long.MIN_VALUE;
    private boolean retryScheduled;

    /**
     * @param window        most messages sent and not yet confirmed
     * @param ratePerSecond this connection's share of the target rate; 0 = as fast as confirmations allow
     */
    PacedPublisher(Class<I> inboundType, Measurements measurements, int window, double ratePerSecond) {
        super(inboundType);
        this.measurements = measurements;
        this.sendTimes = new long[window];
        this.messagesPerNano = ratePerSecond / 1e9;
    }

    /** Writes (without flushing) message number {@code sequence} (1, 2, ...), sent at {@code sentAtNanos}. */
    protected abstract void write(ChannelHandlerContext ctx, long sentAtNanos, long sequence);

    /** Called after a batch of messages has been written, before the flush. */
    protected void afterBatch(ChannelHandlerContext ctx, int messages) {
    }

    @Override
    public CompletableFuture<Void> ready() {
        return ready;
    }

    /** Whether the offsets this connection is given come from one log, so each must exceed the previous. */
    protected boolean offsetsIncrease() {
        return true;
    }

    @Override
    public void start(long startNanos, long stopNanos, long maxMessages) {
        ctx.executor().execute(() -> {
            this.startNanos = startNanos;
            this.stopNanos = stopNanos;
            this.maxMessages = maxMessages;
            ctx.executor().schedule(this::fill, stopNanos - System.nanoTime(), TimeUnit.NANOSECONDS);
            if (messagesPerNano > 0) {
                ticker = ctx.executor().scheduleAtFixedRate(this::fill, 0, TICK_NANOS, TimeUnit.NANOSECONDS);
            } else {
                fill();
            }
        });
    }

    @Override
    public CompletableFuture<Void> done() {
        return done;
    }

    @Override
    public long acked() {
        return acked;
    }

    @Override
    public long measuredAcked() {
        return measuredAcked;
    }

    @Override
    public long firstOffset() {
        return firstOffset;
    }

    @Override
    public long lastOffset() {
        return lastOffset;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.stats = measurements.forCurrentThread();
    }

    protected final void fill() {
        if (done.isDone() || stopNanos == 0) {
            return;
        }
        long now = System.nanoTime();
        if (now >= stopNanos || sent >= maxMessages) {
            if (ticker != null) {
                ticker.cancel(false);
            }
            if (inflight == 0) {
                done.complete(null);
            }
            return;
        }
        long due = messagesPerNano > 0 ? (long) ((now - startNanos) * messagesPerNano) + 1 : Long.MAX_VALUE;
        if (inflight < sendTimes.length && measurements.backlogFull()) {
            retryWhenSubscribersCatchUp();
            return;
        }
        int batch = 0;
        while (inflight < sendTimes.length && sent < due && sent < maxMessages) {
            send();
            batch++;
        }
        if (batch > 0) {
            afterBatch(ctx, batch);
            ctx.flush();
        }
    }

    /** Nothing else may call {@link #fill} while held back with nothing in flight, so look again shortly. */
    private void retryWhenSubscribersCatchUp() {
        if (!retryScheduled && ticker == null) {
            retryScheduled = true;
            ctx.executor().schedule(() -> {
                retryScheduled = false;
                fill();
            }, TICK_NANOS, TimeUnit.NANOSECONDS);
        }
    }

    private void send() {
        long now = System.nanoTime();
        sent++;
        write(ctx, now, sent);
        sendTimes[(oldest + inflight) % sendTimes.length] = now;
        inflight++;
    }

    /** The sequence number of the oldest unconfirmed message. */
    protected final long oldestSequence() {
        return sent - inflight + 1;
    }

    /** The oldest unconfirmed message was published, as {@code offset} (or sequence number, for targets without). */
    protected final void confirmed(long offset) {
        if (inflight == 0) {
            measurements.error(ErrorKind.PUBLISH, "confirmation without a publish");
            return;
        }
        long sentAt = sendTimes[oldest];
        oldest = (oldest + 1) % sendTimes.length;
        inflight--;
        acked++;
        measurements.published.increment();
        stats.acked(sentAt);
        measuredAcked += measurements.measured(sentAt);
        if (offset <= lastOffset && offsetsIncrease()) {
            measurements.error(ErrorKind.PUBLISH, "offset " + offset + " acknowledged after " + lastOffset);
        }
        firstOffset = Math.min(firstOffset, offset);
        lastOffset = Math.max(lastOffset, offset);
    }

    /** The oldest unconfirmed message was refused (or its confirmation was unreadable). */
    protected final void refused(String detail) {
        measurements.error(ErrorKind.PUBLISH, detail);
        if (inflight > 0) {
            oldest = (oldest + 1) % sendTimes.length;
            inflight--;
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (!done.isDone() && !measurements.closing()) {
            measurements.error(ErrorKind.PUBLISH, "the target closed the publisher connection with "
                    + inflight + " publishes unconfirmed");
        }
        if (ticker != null) {
            ticker.cancel(false);
        }
        ready.completeExceptionally(new java.io.IOException("the target closed the publisher connection"));
        done.complete(null);
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        measurements.error(ErrorKind.PUBLISH, String.valueOf(cause));
        ctx.close();
    }
}
