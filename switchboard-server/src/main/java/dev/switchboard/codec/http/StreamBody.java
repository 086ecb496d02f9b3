package dev.switchboard.codec.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

/**
 * The handler that writes a streaming response's body (an SSE stream), last in its connection's pipeline: what the
 * client still sends is dropped (the stream is the connection's last response), a failure closes the connection, and
 * {@link #ended()} runs once the connection is gone.
 */
public abstract class StreamBody extends ChannelInboundHandlerAdapter {
    /** The connection closed: release what the stream holds. On the connection's loop. */
    protected abstract void ended();

    @Override
    public final void channelRead(ChannelHandlerContext ctx, Object msg) {
        ReferenceCountUtil.release(msg); // a stream's client has nothing more to say
    }

    @Override
    public final void channelInactive(ChannelHandlerContext ctx) throws Exception {
        ended();
        super.channelInactive(ctx);
    }

    @Override
    public final void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
