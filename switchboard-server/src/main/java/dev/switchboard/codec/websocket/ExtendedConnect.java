package dev.switchboard.codec.websocket;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * WebSocket over an HTTP/2 stream (RFC 8441): a {@code CONNECT} with {@code :protocol websocket}. The first handler
 * of a stream's channel; it turns such a request into a {@code GET} with a {@code Sec-WebSocket-Key} (which RFC 8441
 * drops), so that it passes the same checks (Host, Origin, token, rights) on its way to {@link WebSocketEndpoint} as
 * an HTTP/1.1 upgrade, and marks the stream ({@code Connection} and {@code Upgrade} do not exist on HTTP/2). The endpoint then answers {@code 200} instead of {@code 101} and the stream's DATA frames carry the
 * WebSocket frames ({@link #switchProtocols}).
 */
public final class ExtendedConnect extends ChannelInboundHandlerAdapter {
    private static final AttributeKey<Boolean> WEBSOCKET_STREAM = AttributeKey.valueOf("switchboard.h2-websocket");
    private static final SecureRandom KEYS = new SecureRandom();

    /** Whether {@code ch} is an HTTP/2 stream that asked for a WebSocket by extended CONNECT. */
    public static boolean isWebSocketStream(Channel ch) {
        return Boolean.TRUE.equals(ch.attr(WEBSOCKET_STREAM).get());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http2HeadersFrame frame) {
            Http2Headers h = frame.headers();
            if (h.method() != null && "CONNECT".contentEquals(h.method()) && h.contains(Http2Headers.PseudoHeaderName.PROTOCOL.value())) {
                if (!HttpHeaderValues.WEBSOCKET.contentEqualsIgnoreCase(
                        h.get(Http2Headers.PseudoHeaderName.PROTOCOL.value()))) {
                    ReferenceCountUtil.release(msg);
                    ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("501"), true));
                    return;
                }
                h.method("GET");
                h.remove(Http2Headers.PseudoHeaderName.PROTOCOL.value());
                if (!h.contains(HttpHeaderNames.SEC_WEBSOCKET_KEY)) { // RFC 8441 has none; the handshaker wants one
                    byte[] key = new byte[16];
                    KEYS.nextBytes(key);
                    h.set(HttpHeaderNames.SEC_WEBSOCKET_KEY, Base64.getEncoder().encodeToString(key));
                }
                ctx.channel().attr(WEBSOCKET_STREAM).set(true);
                // The stream stays open for the socket's frames; to the request handlers the request is complete
                msg = new DefaultHttp2HeadersFrame(h, true).stream(frame.stream());
            }
            ctx.pipeline().remove(this);
        }
        ctx.fireChannelRead(msg);
    }

    /**
     * The stream becomes a WebSocket: its HTTP codec and body aggregator give way to DATA frames as bytes and the
     * WebSocket frame codec, then {@code 200} goes out (RFC 8441 5: the CONNECT's answer, the stream stays open).
     *
     * @param httpCodec  the name of the stream's HTTP codec; @param aggregator the name of its body aggregator
     */
    static void switchProtocols(ChannelPipeline p, String httpCodec, String aggregator, WebSocketDecoderConfig config) {
        carryBytes(p, httpCodec);
        if (p.get(aggregator) != null) {
            p.remove(aggregator);
        }
        p.addAfter("h2-websocket", "wsdecoder", new WebSocket13FrameDecoder(config))
                .addAfter("wsdecoder", "wsencoder", new WebSocket13FrameEncoder(false));
        p.channel().writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")));
    }

    /**
     * The stream carries bytes from now on: its HTTP codec (named {@code httpCodec}) gives way to DATA frames in and
     * out, for a WebSocket's frames, whoever reads them (the endpoint here, or an upstream the sidecar passes them to).
     */
    public static void carryBytes(ChannelPipeline p, String httpCodec) {
        p.replace(httpCodec, "h2-websocket", new DataFrames());
    }

    /** DATA frames in, their bytes on; bytes out, DATA frames. The client ending its side ends the socket. */
    private static final class DataFrames extends ChannelDuplexHandler {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Http2DataFrame data) {
                boolean ended = data.isEndStream();
                ctx.fireChannelRead(data.content());
                if (ended) {
                    ctx.close();
                }
            } else {
                ReferenceCountUtil.release(msg); // trailers or a stray HEADERS: nothing for a WebSocket
            }
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            ctx.write(msg instanceof ByteBuf bytes ? new DefaultHttp2DataFrame(bytes) : msg, promise);
        }
    }
}
