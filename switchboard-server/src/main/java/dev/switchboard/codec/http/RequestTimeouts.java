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
 *
 * <p>Each request moves the deadline twice (head expected, connection idle); moving it only rewrites a field. One
 * timer stays armed and, when it fires early, re-arms for the deadline then current: a scheduled task created and
 * cancelled twice per request showed in publish profiles.
 */
public final class RequestTimeouts extends ChannelDuplexHandler {
    private final long headNanos;
    private final long idleNanos;
    private ChannelHandlerContext ctx;
    private ScheduledFuture<?> timer;
    private long timerAt;
    /** System.nanoTime() by which the head must arrive, or the next request start; meaningless while in flight. */
    private long deadline;
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
    }

    /** The router sent the last response; the connection waits for the next request. */
    public void responseSent() {
        inFlight = false;
        waitUntil(System.nanoTime() + idleNanos);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancel();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        cancel();
        super.channelInactive(ctx);
    }

    private void expectHead() {
        awaitingHead = true;
        waitUntil(System.nanoTime() + headNanos);
    }

    /** Sets the deadline; the armed timer is replaced only when it would fire too late. */
    private void waitUntil(long at) {
        deadline = at;
        if (timer == null || timerAt - at > 0) {
            cancel();
            timerAt = at;
            timer = ctx.executor().schedule(this::deadlineReached, at - System.nanoTime(), TimeUnit.NANOSECONDS);
        }
    }

    private void deadlineReached() {
        timer = null;
        if (inFlight) {
            return; // the response's end sets the next deadline
        }
        if (System.nanoTime() - deadline >= 0) {
            ctx.close();
        } else {
            waitUntil(deadline);
        }
    }

    private void cancel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }
}
