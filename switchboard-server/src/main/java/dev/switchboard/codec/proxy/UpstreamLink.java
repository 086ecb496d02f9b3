package dev.switchboard.codec.proxy;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpObject;
import io.netty.util.ReferenceCountUtil;

/**
 * The last handler of an upstream connection: hands what the upstream sends to the request the connection serves,
 * and tells it when the connection can take more or goes away. An idle pooled connection has no request; what it
 * receives then (nothing, in a well-behaved upstream) is dropped.
 */
final class UpstreamLink extends ChannelDuplexHandler {
    private ProxyCall call;

    void attach(ProxyCall c) {
        call = c;
    }

    void detach() {
        call = null;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (call != null && msg instanceof HttpObject o) {
            call.upstreamRead(o);
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
        if (call != null) {
            call.upstreamReadComplete();
        }
        super.channelReadComplete(ctx);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        if (call != null) {
            call.upstreamWritabilityChanged();
        }
        super.channelWritabilityChanged(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        ProxyCall c = call;
        call = null;
        if (c != null) {
            c.upstreamClosed();
        }
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close(); // channelInactive tells the request
    }
}
