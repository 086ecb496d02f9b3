package dev.switchboard.codec.proxy;

import dev.switchboard.codec.http.HttpResponses;
import dev.switchboard.codec.http.RequestTimeouts;
import dev.switchboard.codec.websocket.ExtendedConnect;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client's WebSocket upgrade on a proxied path: the request goes to the upstream on a connection of its own (with
 * {@code Connection: Upgrade} and {@code Upgrade: websocket} kept, the other hop-by-hop headers removed, forwarding
 * headers and {@code traceparent} added, as for any request); after the upstream's {@code 101} both connections lose
 * their HTTP handlers and are spliced byte for byte ({@link Splice}), so frames, extensions and the closing handshake
 * are the client's and the upstream's own. Any other answer goes to the client as it is, and its connection closes.
 * The route's breaker, concurrency limit and timeout cover the handshake, as they cover a request's head; the spliced
 * connections then live until either side closes or nothing passes for the idle timeout.
 */
final class WebSocketPassthrough extends ChannelInboundHandlerAdapter {
    private static final Logger access = LoggerFactory.getLogger("switchboard.access");
    /**
     * The client pipeline's HTTP handlers after the proxy, by their names in ConnectionPipeline, taken out after the
     * 101; the codec and the request timeouts before it go last, once the splice is in place for any bytes the codec
     * holds.
     */
    private static final List<String> AFTER_PROXY = List.of("h2c-upgrade", "cors", "aggregator", "router");
    private static final List<String> BEFORE_PROXY = List.of("http", "timeouts");

    private final ChannelHandlerContext client;
    private final Upstream upstream;
    private final HttpRequest request;
    private final Duration idleTimeout;
    private final String traceparent;
    /** An HTTP/2 stream's extended CONNECT (RFC 8441) rather than an HTTP/1.1 upgrade. */
    private final boolean overHttp2;
    private final long started = System.nanoTime();
    private Channel up;
    private ScheduledFuture<?> timer;
    /** Holds a slot of the route's limit and its breaker's permission until the handshake's outcome. */
    private boolean admitted;
    private boolean decided;
    private boolean relaying;

    WebSocketPassthrough(ChannelHandlerContext client, Upstream upstream, HttpRequest request, Duration idleTimeout) {
        this.client = client;
        this.upstream = upstream;
        this.request = request;
        this.idleTimeout = idleTimeout;
        this.traceparent = Traceparent.next(request.headers().get("traceparent"));
        this.overHttp2 = ExtendedConnect.isWebSocketStream(client.channel());
    }

    /** Whether {@code request} asks for a WebSocket (RFC 6455 4.1): {@code Upgrade: websocket}. */
    static boolean isUpgrade(HttpRequest request) {
        return request.headers().containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true);
    }

    void start() {
        RequestTimeouts timeouts = client.pipeline().get(RequestTimeouts.class);
        if (timeouts != null) {
            timeouts.headReceived();
        }
        Upstream.Refusal refusal = upstream.admit();
        if (refusal != null) {
            fail(HttpResponseStatus.SERVICE_UNAVAILABLE, refusal.code(), refusal.message());
            return;
        }
        admitted = true;
        timer = client.executor().schedule(this::timedOut, upstream.config().timeout().toNanos(),
                TimeUnit.NANOSECONDS);
        ChannelFuture connecting = upstream.connect(client.channel().eventLoop(), this);
        up = connecting.channel();
        connecting.addListener(f -> {
            if (!f.isSuccess()) {
                failed("cannot connect to " + upstream.route().url() + " (" + f.cause().getMessage() + ")");
                return;
            }
            SslHandler tls = up.pipeline().get(SslHandler.class);
            if (tls == null) {
                connected();
            } else {
                tls.handshakeFuture().addListener(h -> {
                    if (h.isSuccess()) {
                        connected();
                    } else {
                        failed("TLS with " + upstream.route().url() + " failed (" + h.cause().getMessage() + ")");
                    }
                });
            }
        });
    }

    private void connected() {
        if (decided) {
            return;
        }
        // Over HTTP/2 there is no Upgrade header; ExtendedConnect gave the request a Sec-WebSocket-Key of its own
        HttpRequest head = ProxyHeaders.upstreamRequest(client, request, traceparent);
        head.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE)
                .set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET);
        up.write(head);
        up.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
    }

    // ---- the upstream connection's last handler, until the 101 ----

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpResponse r && !decided) {
            int code = r.status().code();
            if (code == 101) {
                switched(ctx, r);
            } else if (code >= 100 && code < 200) {
                ReferenceCountUtil.release(msg); // a 100 or 103 before the answer
            } else {
                answered(r);
            }
            return;
        }
        if (msg instanceof HttpContent c && relaying) {
            if (c instanceof LastHttpContent) {
                client.writeAndFlush(c);
                closeBoth();
            } else {
                client.write(c);
            }
            return;
        }
        ReferenceCountUtil.release(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (relaying) {
            client.flush();
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (!decided) {
            failed("the upstream closed the connection before answering");
        } else {
            Splice.closeAfterFlush(client.channel());
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close(); // channelInactive tells the client
    }

    /** The upstream took the WebSocket: the 101 goes to the client, and both connections become one splice. */
    private void switched(ChannelHandlerContext ctx, HttpResponse r) {
        decide(true, "101", "websocket");
        if (overHttp2) {
            // RFC 8441 5: the CONNECT's answer is a 200 without the handshake's hop-by-hop headers and accept key
            ProxyHeaders.stripHopByHop(r.headers());
            r.headers().remove(HttpHeaderNames.SEC_WEBSOCKET_ACCEPT);
            r.setStatus(HttpResponseStatus.OK);
        }
        client.writeAndFlush(r); // over HTTP/1.1 with its Connection and Upgrade: this hop's handshake is the client's
        ChannelPipeline p = client.pipeline();
        removeIfThere(p, AFTER_PROXY);
        p.replace(ProxyHandler.class, "idle", new IdleStateHandler(0, 0, idleTimeout.toNanos(),
                TimeUnit.NANOSECONDS));
        p.addAfter("idle", "splice", new Splice(up));
        if (overHttp2) {
            ExtendedConnect.carryBytes(p, "http");
        } else {
            removeIfThere(p, BEFORE_PROXY);
        }
        ctx.pipeline().replace(this, "splice", new Splice(client.channel()));
        ctx.pipeline().remove("http"); // bytes it already read after the 101 come on to the splice
        Reading.set(client.channel(), true);
        up.config().setAutoRead(true);
    }

    /** The upstream refused the WebSocket: its answer goes to the client, whose connection then closes. */
    private void answered(HttpResponse r) {
        int code = r.status().code();
        decide(code < 502 || code > 504, Integer.toString(code), code / 100 + "xx");
        relaying = true;
        ProxyHeaders.stripHopByHop(r.headers());
        r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        if (!HttpUtil.isContentLengthSet(r)) {
            HttpUtil.setTransferEncodingChunked(r, true);
        }
        client.write(r);
        if (r instanceof LastHttpContent) {
            client.flush();
            closeBoth();
        }
    }

    // ---- failures ----

    private void timedOut() {
        timer = null;
        if (!decided) {
            fail(HttpResponseStatus.GATEWAY_TIMEOUT, "upstream_timeout", "the upstream of route "
                    + upstream.route().name() + " did not answer within " + upstream.config().timeout().toMillis()
                    + " ms");
        }
    }

    private void failed(String why) {
        if (!decided) {
            fail(HttpResponseStatus.BAD_GATEWAY, "upstream_unavailable", why);
        }
    }

    /** Answers with an error and closes both connections. */
    private void fail(HttpResponseStatus status, String code, String message) {
        decide(status.code() != 502 && status.code() != 504, Integer.toString(status.code()),
                Integer.toString(status.code()));
        FullHttpResponse r = HttpResponses.error(client.alloc(), status, code, message);
        r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        client.writeAndFlush(r);
        closeBoth();
    }

    /** The client closed before the upstream's answer. */
    void clientClosed() {
        if (!decided) {
            decide(true, "-", "aborted");
        }
        closeBoth();
    }

    private void closeBoth() {
        if (up != null) {
            up.close();
        }
        Splice.closeAfterFlush(client.channel());
    }

    private static void removeIfThere(ChannelPipeline p, List<String> names) {
        for (String name : names) {
            if (p.get(name) != null) {
                p.remove(name);
            }
        }
    }

    /** The handshake's outcome: told to the breaker, the limit, the metrics and the access log once. */
    private void decide(boolean upstreamOk, String status, String outcome) {
        decided = true;
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
        long nanos = System.nanoTime() - started;
        if (admitted) {
            if (upstreamOk) {
                upstream.breaker.onSuccess(nanos, TimeUnit.NANOSECONDS);
            } else {
                upstream.breaker.onError(nanos, TimeUnit.NANOSECONDS, new UpstreamFailure());
            }
            upstream.leave();
        }
        upstream.record(outcome, nanos);
        if (access.isInfoEnabled()) {
            access.info("{} \"{} {}\" {} {}ms route={} upgrade=websocket trace={}",
                    ProxyCall.remote(client.channel()), request.method(), ProxyHandler.pathOf(request.uri()), status,
                    TimeUnit.NANOSECONDS.toMillis(nanos), upstream.route().name(), Traceparent.traceId(traceparent));
        }
    }
}
