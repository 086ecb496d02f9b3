package dev.switchboard.codec.proxy;

import dev.switchboard.codec.http.HeldRequest;
import dev.switchboard.codec.http.HttpResponses;
import dev.switchboard.codec.http.LingeringClose;
import dev.switchboard.codec.http.RequestTimeouts;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.pool.ChannelPool;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One proxied request, on its client connection's event loop: takes a connection of its route's pool on that loop,
 * sends the request head and then each body chunk as it arrives (a request without a body goes whole, once ended),
 * and writes the response back the same way; each side is read only while the other can take more. Ends once both
 * the request and the response are through; then the upstream connection goes back to its pool if both sides left it
 * at a message boundary, else it is closed.
 *
 * <p>Failures before the response head: {@code 502 upstream_unavailable} (connection refused or lost), {@code 504
 * upstream_timeout}, {@code 503 circuit_open} and {@code 503 unavailable} (the route's concurrency limit). An
 * idempotent request without a body is tried again after a lost or refused connection, within the route's retry
 * budget: nothing of it can have been acted on twice by a correct upstream, and there is no body to replay. A failure
 * after the head can only be told by closing the client's connection.
 */
final class ProxyCall implements CallDeadline.Owner {
    private static final Logger access = LoggerFactory.getLogger("switchboard.access");
    private static final Set<HttpMethod> IDEMPOTENT = Set.of(HttpMethod.GET, HttpMethod.HEAD, HttpMethod.OPTIONS,
            HttpMethod.PUT, HttpMethod.DELETE, HttpMethod.TRACE);
    /** The metrics' outcome of a response by its status's first digit, made once rather than per response. */
    private static final String[] STATUS_CLASSES = {"0xx", "1xx", "2xx", "3xx", "4xx", "5xx", "6xx", "7xx", "8xx",
        "9xx"};
    /** An upstream's body before a hold is a greeting, not a stream of its own. */
    static final int MAX_HOLD_BODY = 64 * 1024;

    private final ProxyHandler handler;
    private final ChannelHandlerContext client;
    private final Upstream upstream;
    private final Duration maxWait;
    private final HttpHeaders clientHeaders;
    private final HttpMethod method;
    private final String path;
    private final boolean clientKeepAlive;
    private final boolean http10;
    private final boolean expectContinue;
    private final boolean retryable;
    private final String traceparent;
    private final long started = System.nanoTime();
    private final HttpRequest upstreamHead;
    /** Body chunks that arrived before an upstream connection was ready; made for the few requests that have any. */
    private ArrayDeque<HttpContent> unsent;
    private ChannelPool pool;
    private Channel up;
    private int attempts;
    /** Holds a slot of the route's limit and its breaker's permission. */
    private boolean admitted;
    private boolean breakerTold;
    private boolean decided;
    private boolean requestEnded;
    private boolean responseStarted;
    private boolean responseEnded;
    private boolean upstreamReusable;
    private boolean closeClient;
    private boolean finished;
    private Hold hold;
    private CompositeByteBuf holdBody;
    private boolean holdReady;
    /** What the access log says of the answer: a status code, {@code hold …}, or {@code -}. */
    private CharSequence status = "-";
    private String outcome;
    private long bytesOut;

    ProxyCall(ProxyHandler handler, ChannelHandlerContext client, Upstream upstream, HttpRequest request,
              Duration maxWait) {
        this.handler = handler;
        this.client = client;
        this.upstream = upstream;
        this.maxWait = maxWait;
        this.method = request.method();
        this.path = ProxyHandler.pathOf(request.uri());
        this.clientHeaders = request.headers(); // a decoded request's own, changed by nobody
        this.clientKeepAlive = HttpUtil.isKeepAlive(request);
        this.http10 = request.protocolVersion().equals(HttpVersion.HTTP_1_0);
        String expect = request.headers().get(HttpHeaderNames.EXPECT);
        this.expectContinue = expect != null && HttpHeaderValues.CONTINUE.contentEqualsIgnoreCase(expect.trim());
        boolean hasBody = HttpUtil.isTransferEncodingChunked(request) || HttpUtil.getContentLength(request, 0L) > 0;
        this.retryable = IDEMPOTENT.contains(method) && !hasBody;
        this.traceparent = Traceparent.next(request.headers().get(ProxyHeaders.TRACEPARENT));
        this.upstreamHead = ProxyHeaders.upstreamRequest(request, handler.clientAddress(), handler.forwardedProto(),
                traceparent, retryable);
    }

    // ---- the request ----

    void start() {
        RequestTimeouts timeouts = client.pipeline().get(RequestTimeouts.class);
        if (timeouts != null) {
            timeouts.headReceived();
        }
        String expect = clientHeaders.get(HttpHeaderNames.EXPECT);
        if (expect != null && !expectContinue) {
            fail(HttpResponseStatus.EXPECTATION_FAILED, "expectation_failed", "only Expect: 100-continue is supported");
            return;
        }
        Upstream.Refusal refusal = upstream.admit();
        if (refusal != null) {
            fail(HttpResponseStatus.SERVICE_UNAVAILABLE, refusal.code(), refusal.message());
            return;
        }
        admitted = true;
        upstream.retryBudget.requested();
        handler.deadline().set(this, upstream.config().timeout().toNanos());
        pool = upstream.pool(client.channel().eventLoop());
        acquire();
    }

    private void acquire() {
        attempts++;
        pool.acquire().addListener((Future<Channel> f) -> {
            if (!f.isSuccess()) {
                attemptFailed("cannot connect to " + upstream.route().url() + " (" + f.cause().getMessage() + ")");
                return;
            }
            Channel ch = f.getNow();
            SslHandler tls = ch.pipeline().get(SslHandler.class);
            if (tls == null || tls.handshakeFuture().isDone()) {
                acquired(ch, tls);
            } else {
                tls.handshakeFuture().addListener(h -> acquired(ch, tls));
            }
        });
    }

    /** A connection of the pool, past its TLS handshake if it has one. */
    private void acquired(Channel ch, SslHandler tls) {
        if (tls != null && !tls.handshakeFuture().isSuccess()) {
            ch.close();
            pool.release(ch);
            attemptFailed("TLS with " + upstream.route().url() + " failed ("
                    + tls.handshakeFuture().cause().getMessage() + ")");
        } else if (decided) {
            pool.release(ch); // timed out or the client left meanwhile
        } else {
            connected(ch);
        }
    }

    private void connected(Channel ch) {
        up = ch;
        ch.pipeline().get(UpstreamLink.class).attach(this);
        ch.config().setAutoRead(true);
        if (expectContinue && attempts == 1) {
            client.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
        }
        if (!retryable) {
            ch.write(upstreamHead, ch.voidPromise()); // a failed write closes the connection, failing the attempt
            while (unsent != null && !unsent.isEmpty()) {
                ch.write(unsent.poll());
            }
            ch.flush();
        } else if (requestEnded) {
            ch.writeAndFlush(upstreamHead, ch.voidPromise());
        } // else the request, all head, goes once its end arrives (from the same read, as a rule)
        handler.updateReading();
    }

    /** A chunk of the client's request body (the last one ends it). */
    void requestContent(HttpContent c) {
        boolean last = c instanceof LastHttpContent;
        requestEnded |= last;
        if (dropsBody() || retryable) {
            // refused, or answered already, or a request without a body (sent again on a retry)
            c.release();
            if (retryable && last && up != null && !decided) {
                up.writeAndFlush(upstreamHead, up.voidPromise());
            }
            finishIfDone();
            return;
        }
        if (up == null) {
            if (unsent == null) {
                unsent = new ArrayDeque<>(4);
            }
            unsent.add(c);
            handler.updateReading(); // no more until connected: what waits here is one read's worth
            return;
        }
        up.writeAndFlush(c);
        if (!up.isWritable()) {
            handler.updateReading();
        }
    }

    /** Whether the client must not be read: the rest of its body is for an upstream that cannot take more yet. */
    boolean pausesClient() {
        return !requestEnded && !dropsBody() && (up == null || !up.isWritable());
    }

    /** The body's remaining chunks are released, not sent: the request was refused or its answer is complete. */
    private boolean dropsBody() {
        return decided && !responseStarted && hold == null || responseEnded || holdReady;
    }

    void clientWritabilityChanged() {
        if (up != null && responseStarted) {
            up.config().setAutoRead(client.channel().isWritable());
        }
    }

    void upstreamWritabilityChanged() {
        handler.updateReading();
    }

    // ---- the response ----

    void upstreamRead(HttpObject msg) {
        if (msg instanceof HttpResponse r) {
            if (r.status().codeClass() == HttpStatusClass.INFORMATIONAL || decided && !responseStarted) {
                ReferenceCountUtil.release(msg); // a 100 or 103 (the proxy answers Expect itself)
                return;
            }
            responseHead(r);
            return;
        }
        HttpContent c = (HttpContent) msg;
        if (hold != null) {
            holdContent(c);
        } else if (!responseStarted || responseEnded) {
            c.release();
        } else {
            bytesOut += c.content().readableBytes();
            if (c instanceof LastHttpContent) {
                client.writeAndFlush(c);
                responseFinished();
            } else {
                client.write(c);
                if (!client.channel().isWritable()) {
                    // Stop first: on epoll the flush can drain the socket at once, and the writability change it
                    // fires (clientWritabilityChanged, reading on again) must come after, not be undone by, this.
                    up.config().setAutoRead(false);
                    client.flush();
                }
            }
        }
    }

    private void responseHead(HttpResponse r) {
        cancelTimer();
        status = r.status().codeAsText();
        upstreamReusable = HttpUtil.isKeepAlive(r);
        String holdHeader = r.headers().get(Hold.HEADER);
        if (holdHeader != null) {
            tellBreaker(true);
            try {
                hold = Hold.parse(holdHeader, maxWait);
            } catch (IllegalArgumentException e) {
                ReferenceCountUtil.release(r);
                upstreamReusable = false;
                fail(HttpResponseStatus.BAD_GATEWAY, "upstream_invalid", "the upstream's " + Hold.HEADER
                        + " header is invalid: " + e.getMessage());
                return;
            }
            decided = true;
            holdBody = client.alloc().compositeBuffer();
            if (r instanceof HttpContent c) {
                holdContent(c);
            }
            return;
        }
        int code = r.status().code();
        tellBreaker(code < 502 || code > 504);
        decided = true;
        responseStarted = true;
        r.setProtocolVersion(HttpVersion.HTTP_1_1);
        ProxyHeaders.stripHopByHop(r.headers());
        if (!HttpUtil.isContentLengthSet(r) && mayHaveBody(code)) {
            if (http10) {
                closeClient = true; // an HTTP/1.0 client reads such a body until the connection closes
            } else {
                HttpUtil.setTransferEncodingChunked(r, true);
            }
        }
        if (closeClient || !clientKeepAlive) {
            closeClient = true;
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (http10) {
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        if (r instanceof HttpContent c) {
            bytesOut += c.content().readableBytes();
        }
        client.write(r, client.voidPromise()); // a failed write closes the client's connection (the router's rule)
        if (r instanceof LastHttpContent) {
            client.flush();
            responseFinished();
        }
    }

    private boolean mayHaveBody(int code) {
        return !method.equals(HttpMethod.HEAD) && code != 204 && code != 304;
    }

    private void holdContent(HttpContent c) {
        if (holdBody.readableBytes() + c.content().readableBytes() > MAX_HOLD_BODY) {
            c.release();
            dropHold();
            upstreamReusable = false;
            fail(HttpResponseStatus.BAD_GATEWAY, "upstream_invalid", "the body before a hold is at most "
                    + MAX_HOLD_BODY + " bytes");
            return;
        }
        holdBody.addComponent(true, c.content().retain());
        c.release();
        if (c instanceof LastHttpContent) {
            releaseUpstream(upstreamReusable && requestEnded);
            holdReady = true;
            outcome = hold.stream() ? "hold_stream" : "hold_poll";
            status = "hold " + (hold.stream() ? "stream " : "long-poll ") + hold.topic();
            finishIfDone();
        }
    }

    private void dropHold() {
        hold = null;
        if (holdBody != null) {
            holdBody.release();
            holdBody = null;
        }
        holdReady = false;
    }

    void upstreamReadComplete() {
        if (responseStarted) {
            client.flush();
        }
    }

    private void responseFinished() {
        responseEnded = true;
        outcome = STATUS_CLASSES[status.charAt(0) - '0'];
        // A request still sending its body leaves the connection in the middle of a message.
        releaseUpstream(upstreamReusable && requestEnded);
        finishIfDone();
    }

    // ---- failures ----

    @Override
    public void timedOut() {
        if (decided) {
            return;
        }
        tellBreaker(false);
        fail(HttpResponseStatus.GATEWAY_TIMEOUT, "upstream_timeout", "the upstream of route "
                + upstream.route().name() + " did not answer within " + upstream.config().timeout().toMillis() + " ms");
    }

    /** The attempt's connection could not be made or closed before the response head. */
    private void attemptFailed(String why) {
        if (up != null) {
            releaseUpstream(false);
        }
        if (decided) {
            return;
        }
        if (retryable && attempts <= upstream.config().retries() && upstream.retryBudget.tryRetry()) {
            upstream.retries.increment();
            acquire();
            return;
        }
        tellBreaker(false);
        fail(HttpResponseStatus.BAD_GATEWAY, "upstream_unavailable", why);
    }

    void upstreamClosed() {
        Channel ch = up;
        up = null;
        if (ch != null) {
            pool.release(ch);
        }
        if (!decided) {
            attemptFailed("the upstream closed the connection before answering");
        } else if (hold != null && !holdReady) {
            dropHold();
            fail(HttpResponseStatus.BAD_GATEWAY, "upstream_unavailable", "the upstream closed the connection "
                    + "in the middle of its answer");
        } else if (responseStarted && !responseEnded) {
            abortClient(); // the client can only learn of a cut body by the connection closing
        }
    }

    /** Answers with an error; once a response has started, the client's connection is closed instead. */
    private void fail(HttpResponseStatus st, String code, String message) {
        decided = true;
        cancelTimer();
        releaseUpstream(false);
        if (responseStarted) {
            abortClient();
            return;
        }
        responseStarted = true;
        responseEnded = true;
        status = st.codeAsText();
        outcome = st.codeAsText().toString();
        FullHttpResponse r = HttpResponses.error(client.alloc(), st, code, message);
        if (!requestEnded || !clientKeepAlive) {
            closeClient = true; // the rest of a refused body is not read
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        bytesOut = r.content().readableBytes();
        client.writeAndFlush(r);
        finishIfDone();
    }

    private void abortClient() {
        responseEnded = true;
        closeClient = true;
        outcome = "aborted";
        client.close();
        finishIfDone();
    }

    void clientClosed() {
        decided = true;
        requestEnded = true;
        if (!responseEnded) {
            outcome = "aborted";
            status = "-";
        }
        responseEnded = true;
        closeClient = true;
        if (unsent != null) {
            unsent.forEach(ReferenceCountUtil::release);
            unsent.clear();
        }
        dropHold();
        releaseUpstream(false);
        finishIfDone();
    }

    private void tellBreaker(boolean ok) {
        if (!admitted || breakerTold) {
            return;
        }
        breakerTold = true;
        long nanos = System.nanoTime() - started;
        if (ok) {
            upstream.breaker.onSuccess(nanos, TimeUnit.NANOSECONDS);
        } else {
            upstream.breaker.onError(nanos, TimeUnit.NANOSECONDS, new UpstreamFailure());
        }
    }

    private void releaseUpstream(boolean reuse) {
        Channel ch = up;
        if (ch == null) {
            return;
        }
        up = null;
        ch.pipeline().get(UpstreamLink.class).detach();
        ch.config().setAutoRead(true);
        if (!reuse) {
            ch.close();
        }
        pool.release(ch);
    }

    private void cancelTimer() {
        handler.deadline().clear(this);
    }

    // ---- the end ----

    private void finishIfDone() {
        if (finished || !(responseEnded || holdReady) || !(requestEnded || closeClient)) {
            handler.updateReading(); // a body answered before its end is read on, dropped (dropsBody)
            return;
        }
        finished = true;
        cancelTimer();
        releaseUpstream(false);
        if (admitted) {
            if (!breakerTold) {
                upstream.breaker.releasePermission();
            }
            upstream.leave();
        }
        long nanos = System.nanoTime() - started;
        upstream.record(outcome == null ? "aborted" : outcome, nanos);
        if (access.isInfoEnabled()) {
            access.info("{} \"{} {}\" {} {} {}ms route={} attempts={} trace={}", remote(client.channel()), method,
                    path, status, bytesOut, TimeUnit.NANOSECONDS.toMillis(nanos), upstream.route().name(), attempts,
                    Traceparent.traceId(traceparent));
        }
        if (holdReady && client.channel().isActive()) {
            byte[] prelude = ByteBufUtil.getBytes(holdBody);
            HeldRequest held = new HeldRequest(hold.target(), clientHeaders, hold.topic(), prelude);
            dropHold();
            handler.callEnded(held);
            return;
        }
        dropHold();
        RequestTimeouts timeouts = client.pipeline().get(RequestTimeouts.class);
        if (timeouts != null && !closeClient) {
            timeouts.responseSent();
        }
        if (closeClient && client.channel().isActive()) {
            Channel ch = client.channel();
            ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> LingeringClose.close(ch));
        }
        handler.callEnded(null);
    }

    static String remote(Channel ch) {
        return ch.remoteAddress() instanceof InetSocketAddress a ? a.getAddress().getHostAddress()
                : String.valueOf(ch.remoteAddress());
    }
}
