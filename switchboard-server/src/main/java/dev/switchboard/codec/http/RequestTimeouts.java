package dev.switchboard.codec.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Sits before the HTTP decoder and closes connections that hold a slot without using it: a request head must arrive
 * in full within {@code headTimeout} of its first byte (or of the connection opening), which stops slow-header
 * attacks; a keep-alive connection with no request in flight is closed after {@code idleTimeout}. A request in flight
 * (a held long poll, a streaming response) is never timed out here: a stream stays in flight until its connection
 * closes, watched by its own heartbeats and slow-consumer guard. The router reports a head's arrival and a
 * response's end.
 */
public final class RequestTimeouts extends ChannelDuplexHandler {
    private static final long NONE = Long.MAX_VALUE;

    private final long headNanos;
    private final long idleNanos;
    private ChannelHandlerContext ctx;
    // One timer per connection that re-arms itself, instead of a schedule and a cancel per request: the deadline
    // moves freely and the timer, never more than headNanos away while a deadline is set, catches up with it.
    private ScheduledFuture<?> timer;
    private long deadline = NONE; // on the loop's own clock (a test's loop freezes it)
    private boolean awaitingHead;
    private boolean inFlight;

    public RequestTimeouts(Duration headTimeout, Duration idleTimeout) {
        this.headNanos = headTimeout.toNanos();
        this.idleNanos = idleTimeout.toNanos();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        expectHead();
        super.channelActive(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (msg instanceof ByteBuf && !inFlight && !awaitingHead) {
            expectHead();
        }
        super.channelRead(ctx, msg);
    }

    /** The router decoded a request head. */
    public void headReceived() {
        awaitingHead = false;
        inFlight = true;
        deadline = NONE;
    }

    /**
     * The request in flight is held by design (a long poll): nothing is timed until its answer, so the timer, left
     * armed by the head to fire empty, goes now. A held poll then keeps no timer of this handler while the young
     * pauses after its arrival copy it (BENCHMARKS.md, "Long-poll wake tail"); one cancel per held poll, none per
     * request.
     */
    public void held() {
        if (inFlight && deadline == NONE) {
            stopTimer();
        }
    }

    /** The router sent the last response; the connection waits for the next request. */
    public void responseSent() {
        inFlight = false;
        closeAfter(idleNanos);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        stopTimer();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        stopTimer();
        super.channelInactive(ctx);
    }

    private void expectHead() {
        awaitingHead = true;
        closeAfter(headNanos);
    }

    private void closeAfter(long nanos) {
        deadline = now() + nanos;
        if (timer == null) {
            arm(nanos);
        }
    }

    private void arm(long nanos) {
        timer = ctx.executor().schedule(this::expire, Math.min(nanos, headNanos), TimeUnit.NANOSECONDS);
    }

    private void expire() {
        timer = null;
        if (deadline == NONE) {
            return;
        }
        long left = deadline - now();
        if (left > 0) {
            arm(left);
        } else if (!inFlight) {
            ctx.close();
        }
    }

    private long now() {
        return ctx.executor().ticker().nanoTime();
    }

    private void stopTimer() {
        deadline = NONE;
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }
}
