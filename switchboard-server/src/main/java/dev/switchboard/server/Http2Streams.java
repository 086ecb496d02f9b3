package dev.switchboard.server;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Counts an HTTP/2 connection's open streams (for the x-ray) and closes the connection once it had none for the idle
 * timeout, as an idle HTTP/1.1 keep-alive connection is closed. While a stream is open nothing here times out: a
 * held long poll or an SSE stream is watched by its own deadline, heartbeats and slow-consumer guard, and a client
 * that opens no stream at all is closed after the idle timeout. The connection's frame codec bounds how many streams
 * are open at once ({@code --max-streams-per-connection}).
 */
final class Http2Streams extends ChannelInboundHandlerAdapter {
    private final long idleNanos;
    private ChannelHandlerContext ctx;
    private ScheduledFuture<?> idleTimer;
    private int open;

    Http2Streams(Duration idleTimeout) {
        this.idleNanos = idleTimeout.toNanos();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        if (open == 0) {
            armIdleTimer();
        }
    }

    /** A new stream's channel, on the connection's loop. */
    void opened(Channel stream) {
        open++;
        if (idleTimer != null) {
            idleTimer.cancel(false);
            idleTimer = null;
        }
        stream.closeFuture().addListener(f -> {
            if (--open == 0 && ctx != null) {
                armIdleTimer();
            }
        });
    }

    int open() {
        return open;
    }

    private void armIdleTimer() {
        if (idleTimer == null && ctx.channel().isActive()) {
            idleTimer = ctx.executor().schedule(() -> {
                idleTimer = null;
                if (open == 0) {
                    ctx.close(); // the frame codec sends GOAWAY first
                }
            }, idleNanos, TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (idleTimer != null) {
            idleTimer.cancel(false);
        }
        super.channelInactive(ctx);
    }
}
