package dev.switchboard.codec.proxy;

import dev.switchboard.codec.http.HeldRequest;
import dev.switchboard.codec.websocket.ExtendedConnect;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;

/**
 * Sends the requests of one connection (or HTTP/2 stream) that belong to an upstream there, as decoded HTTP objects,
 * body chunks as they come ({@link ProxyCall}); Switchboard's own requests pass on to the body aggregator and the
 * router. Sits after the HTTP codec and before CORS and the aggregator, so that proxied bodies are never collected
 * and an application's own CORS answers stay its own.
 *
 * <p>Responses leave in the order the requests came (RFC 9112 9.3.2): a proxied request starts only when every request
 * before it is answered, and a request behind a proxied one waits until it is done; while one waits, the connection
 * is not read, so at most one read's worth of requests is held here. An upstream's {@code Switchboard-Hold} answer
 * becomes a {@link HeldRequest} to Switchboard's own SSE or poll endpoint, passed on like a client's request.
 */
public final class ProxyHandler extends ChannelDuplexHandler {
    private final Sidecar sidecar;
    private final ArrayDeque<HttpObject> waiting = new ArrayDeque<>();
    private ChannelHandlerContext ctx;
    /** Requests passed on to the router and not answered yet. */
    private int ownOpen;
    /** The body of the request being passed on goes on too. */
    private boolean passingBody;
    private ProxyCall call;
    /** A WebSocket upgrade waiting for the upstream's answer; this handler leaves the pipeline after a 101. */
    private WebSocketPassthrough passthrough;
    /** The connection's, for the forwarding headers of each request: looked up once. */
    private String clientAddress;
    private AsciiString forwardedProto;
    private CallDeadline deadline;

    ProxyHandler(Sidecar sidecar) {
        this.sidecar = sidecar;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.deadline = new CallDeadline(ctx.executor());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof HttpObject o)) {
            ctx.fireChannelRead(msg); // bytes after a streaming response: the router drops them
            return;
        }
        if (!waiting.isEmpty() || !handle(o)) {
            waiting.add(o);
            updateReading();
        }
    }

    /** Takes {@code o} on, or returns false (having done nothing) when it must wait. */
    private boolean handle(HttpObject o) {
        if (passthrough != null) {
            if (o instanceof HttpRequest) {
                return false; // a client waits for the 101 before it sends more (RFC 6455 4.1); this one did not
            }
            ReferenceCountUtil.release(o); // the upgrade request's empty body
            return true;
        }
        if (o instanceof HttpRequest request) {
            if (call != null) {
                return false;
            }
            Upstream upstream = request.decoderResult().isSuccess() ? sidecar.upstreamOf(pathOf(request.uri()))
                    : null;
            if (upstream == null) {
                ownOpen++;
                passingBody = !(o instanceof LastHttpContent);
                ctx.fireChannelRead(o);
                return true;
            }
            if (ownOpen > 0) {
                return false;
            }
            if (WebSocketPassthrough.isUpgrade(request) || ExtendedConnect.isWebSocketStream(ctx.channel())) {
                upgrade(request, upstream);
                return true;
            }
            call = new ProxyCall(this, ctx, upstream, request, sidecar.maxWait());
            call.start();
            if (o instanceof HttpContent body) { // a whole request in one object (an HTTP/2 stream's, say)
                call.requestContent(body);
            }
            return true;
        }
        if (passingBody) {
            passingBody = !(o instanceof LastHttpContent);
            ctx.fireChannelRead(o);
        } else if (call != null) {
            call.requestContent((HttpContent) o);
        } else {
            ReferenceCountUtil.release(o);
        }
        return true;
    }

    /** A WebSocket for the upstream, by an HTTP/1.1 upgrade or an HTTP/2 stream's extended CONNECT: passed through. */
    private void upgrade(HttpRequest request, Upstream upstream) {
        passthrough = new WebSocketPassthrough(ctx, upstream, request, sidecar.idleTimeout());
        updateReading();
        passthrough.start();
        if (request instanceof HttpContent body) {
            body.release();
        }
    }

    CallDeadline deadline() {
        return deadline;
    }

    String clientAddress() {
        if (clientAddress == null) {
            clientAddress = ProxyHeaders.clientAddress(ctx.channel());
        }
        return clientAddress;
    }

    AsciiString forwardedProto() {
        if (forwardedProto == null) {
            forwardedProto = ProxyHeaders.forwardedProto(ctx.channel());
        }
        return forwardedProto;
    }

    /** The request target's path: no query, no scheme and authority (RFC 9112 3.2.2's absolute-form). */
    static String pathOf(String target) {
        String t = target;
        int scheme = t.indexOf("://");
        if (scheme > 0 && scheme < 6) {
            int slash = t.indexOf('/', scheme + 3);
            t = slash < 0 ? "/" : t.substring(slash);
        }
        int end = t.indexOf('?');
        int fragment = t.indexOf('#');
        if (end < 0 || fragment >= 0 && fragment < end) {
            end = fragment < 0 ? t.length() : fragment;
        }
        return t.substring(0, end);
    }

    /** The call is over; a held request goes on to Switchboard's endpoints, then what waited is taken on. */
    void callEnded(HeldRequest held) {
        call = null;
        if (held != null) {
            ownOpen++;
            ctx.fireChannelRead(held);
        }
        takeWaiting();
    }

    private void takeWaiting() {
        while (!waiting.isEmpty()) {
            HttpObject next = waiting.poll();
            if (!handle(next)) {
                waiting.addFirst(next);
                break;
            }
        }
        updateReading();
    }

    /** Reads the client while nothing waits here and the call in flight can take more of its body. */
    void updateReading() {
        Reading.set(ctx.channel(), waiting.isEmpty() && passthrough == null && (call == null || !call.pausesClient()));
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        boolean ends = msg instanceof LastHttpContent
                && !(msg instanceof HttpResponse r && r.status().codeClass() == HttpStatusClass.INFORMATIONAL);
        ctx.write(msg, promise);
        if (ends && ownOpen > 0 && --ownOpen == 0 && call == null) {
            takeWaiting();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        if (call != null) {
            call.clientWritabilityChanged();
        }
        super.channelWritabilityChanged(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        releaseWaiting();
        deadline.close();
        if (call != null) {
            call.clientClosed();
        }
        if (passthrough != null) {
            passthrough.clientClosed();
        }
        super.channelInactive(ctx);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        releaseWaiting(); // a WebSocket passthrough took the connection over
        deadline.close();
    }

    private void releaseWaiting() {
        waiting.forEach(ReferenceCountUtil::release);
        waiting.clear();
    }
}
