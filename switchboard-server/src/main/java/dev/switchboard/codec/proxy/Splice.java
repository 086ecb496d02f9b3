package dev.switchboard.codec.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;

/**
 * One end of a passthrough (docs/sidecar.md, "WebSocket passthrough"): the last handler of a connection whose bytes
 * go unchanged to {@code peer}, the connection at the other end, on the same event loop. This connection is read only
 * while the peer can take more (its writability, as the peer's own {@code Splice} reports it); whichever side closes,
 * the other is closed once what it was sent is flushed. The buffers read are the ones written: nothing is copied or
 * allocated per read.
 */
final class Splice extends ChannelInboundHandlerAdapter {
    private final Channel peer;

    Splice(Channel peer) {
        this.peer = peer;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf bytes)) {
            ReferenceCountUtil.release(msg); // the empty end of the 101's HTTP message, before its codec left
            return;
        }
        peer.write(bytes, peer.voidPromise());
        if (!peer.isWritable()) {
            // until the peer drains (its channelWritabilityChanged), which the flush may do at once: stop first
            Reading.set(ctx.channel(), false);
            peer.flush();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        peer.flush();
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        Reading.set(peer, ctx.channel().isWritable());
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closeAfterFlush(peer);
        ctx.fireChannelInactive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            ctx.close(); // nothing either way for the idle timeout: channelInactive closes the peer
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }

    static void closeAfterFlush(Channel ch) {
        if (ch.isActive()) {
            ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    }
}
