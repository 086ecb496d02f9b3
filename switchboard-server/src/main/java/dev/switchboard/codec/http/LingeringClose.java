package dev.switchboard.codec.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.TimeUnit;

/**
 * Closes a connection after its last response as RFC 9112 (9.6) asks: first only our sending side (the client reads
 * the response, then end of stream), while whatever the client is still sending is read and dropped, until the client
 * closes or {@link #LINGER_MILLIS} pass. Closing at once while request bytes are still arriving (the rest of a too
 * large body or head) makes the kernel answer them with a reset, which can destroy the response before the client
 * has read it: the client sees "connection reset" instead of the 413 or 431.
 */
public final class LingeringClose {
    static final long LINGER_MILLIS = 2000;
    private static final ChannelHandler DISCARD = new Discard();

    private LingeringClose() {}

    /** On the channel's loop, after the last response was flushed. */
    public static void close(Channel ch) {
        if (!(ch instanceof DuplexChannel duplex) || !ch.isActive() || ch.pipeline().get(Discard.class) != null) {
            ch.close();
            return;
        }
        ch.pipeline().addFirst(DISCARD); // nothing more is parsed
        ch.config().setAutoRead(true);
        duplex.shutdownOutput().addListener(f -> {
            if (!f.isSuccess()) {
                ch.close();
            }
        });
        ch.eventLoop().schedule(() -> {
            ch.close();
        }, LINGER_MILLIS, TimeUnit.MILLISECONDS);
    }

    @ChannelHandler.Sharable
    private static final class Discard extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            // swallowed with the bytes
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
