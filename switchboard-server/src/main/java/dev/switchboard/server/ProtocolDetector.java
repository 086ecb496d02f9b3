package dev.switchboard.server;

import dev.switchboard.codec.http.HttpResponses;
import dev.switchboard.codec.http.LingeringClose;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.ssl.SslHandler;
import java.util.List;

/**
 * Looks at a connection's first bytes and puts in the handlers of its protocol, then steps aside (the bytes it read go
 * on to them). On a TLS port a TLS record starts TLS; anything else, a plaintext request typically, is answered
 * {@code 400 tls_required} in clear text and the connection closed, as nginx does, so that someone who typed
 * {@code http://} sees why instead of a reset. In clear text, the HTTP/2 connection preface ({@code PRI *
 * HTTP/2.0…}) starts HTTP/2 by prior knowledge (RFC 9113 3.3), anything else HTTP/1.1.
 */
final class ProtocolDetector extends ByteToMessageDecoder {
    /** A TLS record header: content type, version, length. */
    private static final int TLS_HEADER_BYTES = 5;
    private static final ByteBuf PREFACE = Http2CodecUtil.connectionPrefaceBuf();

    private final ConnectionPipeline pipeline;
    private final boolean tls;
    private final boolean http2;

    ProtocolDetector(ConnectionPipeline pipeline, boolean tls, boolean http2) {
        this.pipeline = pipeline;
        this.tls = tls;
        this.http2 = http2;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (tls) {
            if (in.readableBytes() < TLS_HEADER_BYTES) {
                return;
            }
            if (SslHandler.isEncrypted(in, false)) {
                pipeline.startTls(ctx);
            } else {
                refusePlaintext(ctx, in);
            }
        } else if (!http2) {
            pipeline.startHttp1(ctx.pipeline(), ctx.name(), false);
            ctx.pipeline().remove(this);
        } else {
            int n = Math.min(in.readableBytes(), PREFACE.readableBytes());
            if (!ByteBufUtil.equals(in, in.readerIndex(), PREFACE, 0, n)) {
                pipeline.startHttp1(ctx.pipeline(), ctx.name(), true);
                ctx.pipeline().remove(this);
            } else if (n == PREFACE.readableBytes()) {
                pipeline.startHttp2(ctx.pipeline(), ctx.name());
                ctx.pipeline().remove(this);
            } // else a prefix of the preface so far: wait for more
        }
    }

    private static void refusePlaintext(ChannelHandlerContext ctx, ByteBuf in) {
        in.skipBytes(in.readableBytes());
        ctx.pipeline().replace(ctx.name(), "plain", new HttpResponseEncoder());
        ctx.channel().writeAndFlush(HttpResponses.closing(HttpResponses.error(ctx.alloc(),
                HttpResponseStatus.BAD_REQUEST, "tls_required",
                "this port speaks TLS only: use https:// (or wss://)")))
                .addListener(f -> LingeringClose.close(ctx.channel()));
    }
}
