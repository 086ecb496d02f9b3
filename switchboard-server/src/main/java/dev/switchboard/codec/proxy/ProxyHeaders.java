package dev.switchboard.codec.proxy;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AsciiString;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * The headers a proxied request and its response cross the proxy with: hop-by-hop ones removed both ways, the
 * forwarding ones and {@code traceparent} added upstream. On every request and response head, so by hashed lookups
 * and constant names rather than copies of the names.
 */
final class ProxyHeaders {
    /** Headers of one connection (RFC 9110 7.6.1), never forwarded; HTTP/2's conversion adds its own. */
    private static final AsciiString[] HOP_BY_HOP = {HttpHeaderNames.CONNECTION, HttpHeaderNames.KEEP_ALIVE,
        AsciiString.cached("proxy-connection"), HttpHeaderNames.PROXY_AUTHENTICATE,
        HttpHeaderNames.PROXY_AUTHORIZATION, HttpHeaderNames.TE, HttpHeaderNames.TRAILER,
        HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderNames.UPGRADE, HttpHeaderNames.EXPECT};
    private static final AsciiString HTTP2_EXTENSIONS = AsciiString.cached("x-http2-");
    private static final AsciiString X_FORWARDED_FOR = AsciiString.cached("X-Forwarded-For");
    private static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("X-Forwarded-Proto");
    private static final AsciiString X_FORWARDED_HOST = AsciiString.cached("X-Forwarded-Host");
    static final AsciiString TRACEPARENT = AsciiString.cached("traceparent");
    private static final AsciiString HTTP = AsciiString.cached("http");
    private static final AsciiString HTTPS = AsciiString.cached("https");

    private ProxyHeaders() {}

    /**
     * What goes to the upstream for {@code request}: its head without hop-by-hop headers, with the forwarding headers
     * and {@code traceparent}, in origin form.
     */
    static HttpRequest upstreamRequest(ChannelHandlerContext client, HttpRequest request, String traceparent) {
        return upstreamRequest(request, clientAddress(client.channel()), forwardedProto(client.channel()), traceparent,
                false);
    }

    /**
     * As above, with the client's address and scheme known (they are the connection's, the same for each request);
     * {@code whole} for a request without a body: the head and its end as one message, which the encoder writes as one
     * buffer (a head and an empty end apart are two buffers, gathered by a {@code writev}).
     */
    static HttpRequest upstreamRequest(HttpRequest request, String clientAddress, AsciiString forwardedProto,
                                       String traceparent, boolean whole) {
        HttpHeaders h = new DefaultHttpHeaders().set(request.headers());
        stripHopByHop(h);
        if (HttpUtil.isTransferEncodingChunked(request) && !h.contains(HttpHeaderNames.CONTENT_LENGTH)) {
            h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        String earlier = request.headers().get(X_FORWARDED_FOR);
        h.set(X_FORWARDED_FOR, earlier == null ? clientAddress : earlier + ", " + clientAddress);
        h.set(X_FORWARDED_PROTO, forwardedProto);
        String host = request.headers().get(HttpHeaderNames.HOST);
        if (host != null) {
            h.set(X_FORWARDED_HOST, host);
        }
        h.set(TRACEPARENT, traceparent);
        String target = request.uri().startsWith("/") ? request.uri() : originForm(request.uri());
        if (whole) {
            return new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, request.method(), target, Unpooled.EMPTY_BUFFER, h,
                    EmptyHttpHeaders.INSTANCE);
        }
        return new DefaultHttpRequest(HttpVersion.HTTP_1_1, request.method(), target, h);
    }

    /** The client's address as {@code X-Forwarded-For} names it. */
    static String clientAddress(Channel ch) {
        return ch.remoteAddress() instanceof InetSocketAddress a ? a.getAddress().getHostAddress() : "unknown";
    }

    static AsciiString forwardedProto(Channel ch) {
        return tls(ch) ? HTTPS : HTTP;
    }

    private static String originForm(String target) {
        String p = ProxyHandler.pathOf(target);
        int q = target.indexOf('?');
        return (p.isEmpty() ? "/" : p) + (q < 0 ? "" : target.substring(q));
    }

    private static boolean tls(Channel ch) {
        return ch.pipeline().get(SslHandler.class) != null
                || (ch.parent() != null && ch.parent().pipeline().get(SslHandler.class) != null);
    }

    /**
     * Removes the hop-by-hop headers and the ones the {@code Connection} header names. Runs on every request and
     * response head, so by hashed lookups and one pass over the entries, without copying the names.
     */
    static void stripHopByHop(HttpHeaders h) {
        if (h.contains(HttpHeaderNames.CONNECTION)) {
            for (String listed : h.getAll(HttpHeaderNames.CONNECTION)) {
                for (String name : listed.split(",")) {
                    h.remove(name.trim());
                }
            }
        }
        for (AsciiString name : HOP_BY_HOP) {
            h.remove(name);
        }
        List<CharSequence> http2 = null;
        for (var it = h.iteratorCharSequence(); it.hasNext(); ) {
            CharSequence name = it.next().getKey();
            if (AsciiString.regionMatches(name, true, 0, HTTP2_EXTENSIONS, 0, HTTP2_EXTENSIONS.length())) {
                if (http2 == null) {
                    http2 = new ArrayList<>(4);
                }
                http2.add(name);
            }
        }
        if (http2 != null) {
            http2.forEach(h::remove);
        }
    }
}
