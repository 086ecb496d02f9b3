package dev.switchboard.codec.http;

import dev.switchboard.auth.Grants;
import dev.switchboard.auth.PublishLimiter;
import dev.switchboard.broker.Handoff;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.Durations;
import dev.switchboard.wire.ErrorCode;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.cookie.Cookie;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * One request and its response. Endpoints answer exactly once: with a whole response, from any thread, with
 * {@link #respond}; with a response whose body is produced over time (SSE) with {@link #stream}; or, taking the
 * connection over for another protocol (WebSocket), with {@link #takeOver()}. The request is released after the
 * endpoint's synchronous part, so endpoints copy what they need before going asynchronous.
 */
public final class Exchange {
    /** The cookie a browser page can carry its token in (EventSource cannot set headers). */
    public static final String TOKEN_COOKIE = "switchboard_token";
    private static final String BEARER = "Bearer ";

    public interface Listener {
        /**
         * On the connection's loop, once, with the response to send (null: none, the connection went away) and
         * whether the connection ends after it. The listener writes it, keeping pipelined responses in order.
         */
        void answered(Exchange exchange, FullHttpResponse response, boolean close);

        /**
         * On the connection's loop, once: the endpoint answers with a streaming response, whose head is this. The
         * listener writes the head; the endpoint then writes the body. The connection ends with the stream.
         */
        void streaming(Exchange exchange, HttpResponse head);

        /**
         * On the connection's loop: the exchange waits for a future that must be done by {@link #deadline()}. The
         * listener calls {@link #expire} on it once that has passed (one timer per connection, not per request).
         */
        void awaiting(Exchange exchange);

        /** On the connection's loop: the endpoint took the connection over (a refused upgrade it answered itself). */
        void takenOver(Exchange exchange);

        /**
         * On the connection's loop: the connection leaves HTTP for another protocol; the handlers that only HTTP
         * needs (request timeouts, CORS, the router) leave the pipeline.
         */
        void upgraded(Exchange exchange);
    }

    private final ChannelHandlerContext ctx;
    /** Null once {@linkplain #forgetRequest forgotten}, as are {@link #target}, {@link #rawPath} and {@link #query}. */
    private FullHttpRequest request;
    /** The request target in origin-form. */
    private String target;
    /** Its path, once read and checked; its query, once a parameter is read: most requests read no parameter. */
    private String rawPath;
    private QueryStringDecoder query;
    private final boolean http10;
    private boolean keepAlive;
    private final Listener listener;
    private final Duration answerTimeout;
    private final long stageStart;
    private final PublishLimiter.Budget publishBudget;
    private CompletableFuture<?> pending;
    /** System.nanoTime() by which the pending future must be done; meaningful while {@link #pending} is open. */
    private long deadline;
    private Duration limit;
    private boolean done;
    private Grants grants = Grants.NOBODY;

    /**
     * @param answerTimeout how long past its own wait an answer may take before the client gets 503 timeout
     * @param stageStart    when this request's stage timing started (System.nanoTime()), 0 if it is not sampled
     * @param publishBudget the publish rate of the connection the request came on
     */
    public Exchange(ChannelHandlerContext ctx, FullHttpRequest request, Listener listener, Duration answerTimeout,
                    long stageStart, PublishLimiter.Budget publishBudget) {
        this.stageStart = stageStart;
        this.ctx = ctx;
        this.publishBudget = publishBudget;
        this.request = request;
        this.target = originForm(request.uri());
        this.keepAlive = HttpUtil.isKeepAlive(request);
        this.http10 = request.protocolVersion().equals(HttpVersion.HTTP_1_0);
        this.listener = listener;
        this.answerTimeout = answerTimeout;
    }

    /**
     * The request target without scheme and authority: RFC 9112 3.2.2 says a server MUST accept the absolute-form
     * ({@code http://host:port/path?query}) as well as the usual origin-form ({@code /path?query}).
     */
    static String originForm(String target) {
        int authority;
        if (target.regionMatches(true, 0, "http://", 0, 7)) {
            authority = 7;
        } else if (target.regionMatches(true, 0, "https://", 0, 8)) {
            authority = 8;
        } else {
            return target;
        }
        int end = authority;
        while (end < target.length() && "/?#".indexOf(target.charAt(end)) < 0) {
            end++;
        }
        String rest = target.substring(end);
        return rest.startsWith("/") ? rest : "/" + rest;
    }

    public ChannelHandlerContext ctx() {
        return ctx;
    }

    /** When this request's stage timing started (System.nanoTime()), 0 when it is not one of the sampled ones. */
    public long stageStart() {
        return stageStart;
    }

    public FullHttpRequest request() {
        return request;
    }

    /**
     * The endpoint needs nothing more of the request while it waits (a held long poll): its head, target and query
     * are let go, so that a parked exchange keeps only what its answer needs (BENCHMARKS.md, "Held long polls: bytes
     * per poll"). Reading the request after this fails.
     */
    public void forgetRequest() {
        // Netty's CorsHandler keeps the last request head until the next one comes, for the Origin its answer needs.
        HttpHeaders headers = request.headers();
        String origin = headers.get(HttpHeaderNames.ORIGIN);
        headers.clear();
        if (origin != null) {
            headers.set(HttpHeaderNames.ORIGIN, origin);
        }
        request.setUri("/");
        request = null;
        target = null;
        rawPath = null;
        query = null;
    }

    /**
     * The path as sent, not percent-decoded: an encoded {@code /} inside a name must reach name validation as part of
     * the name (and be refused there), not split the path into other segments. A bad percent-encoding is refused.
     */
    public String path() {
        if (rawPath == null) {
            String raw = target.substring(0, pathEnd(target));
            try {
                QueryStringDecoder.decodeComponent(raw, StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw badEncoding(e);
            }
            rawPath = raw;
        }
        return rawPath;
    }

    /** Where the path of a target ends, as {@link QueryStringDecoder} cuts it. */
    private static int pathEnd(String target) {
        for (int i = 0; i < target.length(); i++) {
            char c = target.charAt(i);
            if (c == '?' || c == '#') {
                return i;
            }
        }
        return target.length();
    }

    private QueryStringDecoder query() {
        if (query == null) {
            query = new QueryStringDecoder(target);
        }
        return query;
    }

    /** The single value of a query parameter, or null; a repeated parameter or a bad percent-encoding is refused. */
    public String query(String name) {
        List<String> values;
        try {
            values = query().parameters().get(name);
        } catch (IllegalArgumentException e) {
            throw badEncoding(e);
        }
        if (values == null || values.isEmpty()) {
            return null;
        }
        if (values.size() > 1) {
            throw new ApiException(ErrorCode.INVALID_QUERY, "parameter '" + name + "' is given more than once");
        }
        return values.getFirst();
    }

    /** Every value of a repeatable query parameter ({@code ?topic=a&topic=b}), in order; none is the empty list. */
    public List<String> queryAll(String name) {
        try {
            return query().parameters().getOrDefault(name, List.of());
        } catch (IllegalArgumentException e) {
            throw badEncoding(e);
        }
    }

    private static ApiException badEncoding(IllegalArgumentException e) {
        return new ApiException(ErrorCode.INVALID_URI, "the request target is not validly percent-encoded: "
                + e.getMessage());
    }

    public String header(CharSequence name) {
        return request.headers().get(name);
    }

    /**
     * The token the request carries: {@code Authorization: Bearer}, else the {@link #TOKEN_COOKIE} cookie, else the
     * {@code token} query parameter; null when none. It is never logged (see {@link #fail}).
     */
    public String token() {
        String authorization = header(HttpHeaderNames.AUTHORIZATION);
        if (authorization != null && authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            return authorization.substring(BEARER.length()).trim();
        }
        String cookies = header(HttpHeaderNames.COOKIE);
        if (cookies != null) {
            for (Cookie c : ServerCookieDecoder.STRICT.decodeAll(cookies)) {
                if (c.name().equals(TOKEN_COOKIE)) {
                    return c.value();
                }
            }
        }
        return query("token");
    }

    /**
     * What the caller may do, as the router verified it (everything when the server has no authentication);
     * nothing before that.
     */
    public Grants grants() {
        return grants;
    }

    public void grants(Grants verified) {
        this.grants = verified;
    }

    /** Takes {@code messages} publishes from the connection's and the caller's rate, or refuses them (429). */
    public void admitPublishes(int messages) {
        publishBudget.admit(grants.subject(), messages);
    }

    /**
     * Completes this exchange from a future: its value becomes the response, an ApiException the error response.
     * The response is built on the connection's loop, not on the thread completing the future (the log's single
     * writer, which would otherwise encode every publisher's answer itself). A future that is not done within the
     * answer timeout is given up: the client gets 503 {@code timeout}, whatever went wrong below.
     */
    public <T> void respondWhenDone(CompletableFuture<T> future, Consumer<T> onValue) {
        respondWhenDone(future, Duration.ZERO, onValue);
    }

    /** As {@link #respondWhenDone(CompletableFuture, Consumer)} for a request that may wait {@code wait} by design. */
    public <T> void respondWhenDone(CompletableFuture<T> future, Duration wait, Consumer<T> onValue) {
        pending = future;
        if (!future.isDone()) {
            limit = wait.isZero() ? answerTimeout : wait.plus(answerTimeout);
            deadline = System.nanoTime() + limit.toNanos();
            listener.awaiting(this);
        }
        BiConsumer<T, Throwable> answer = (value, error) -> {
            if (error == null) {
                try {
                    onValue.accept(value);
                } catch (RuntimeException refused) { // a refusal found while answering (a bad Last-Event-ID)
                    fail(refused);
                }
            } else {
                fail(error);
            }
        };
        future.whenComplete((value, error) -> {
            if (ctx.executor().inEventLoop()) {
                answer.accept(value, error);
            } else {
                Handoff.execute(ctx.executor(), () -> answer.accept(value, error));
            }
        });
    }

    /** Whether this exchange waits for a future with a {@link #deadline()}. */
    public boolean awaitingAnswer() {
        return !done && limit != null;
    }

    /** Whether the awaited answer waits by design (a long poll's {@code wait}), not only for the answer timeout. */
    public boolean waitsByDesign() {
        return awaitingAnswer() && limit.compareTo(answerTimeout) > 0;
    }

    /** When the awaited answer is due (System.nanoTime()); only while {@link #awaitingAnswer()}. */
    public long deadline() {
        return deadline;
    }

    /** On the loop, past {@link #deadline()}: gives the answer up; the client gets 503 {@code timeout}. */
    public void expire() {
        if (awaitingAnswer()) {
            respond(HttpResponses.error(ctx.alloc(), new ApiException(ErrorCode.TIMEOUT,
                    "no answer within " + Durations.format(limit) + "; retry")));
            pending.cancel(false); // after answering: the cancelled future's callback finds the exchange done
        }
    }

    public void fail(Throwable error) {
        Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                ? error.getCause() : error;
        if (cause instanceof ApiException api) {
            respond(HttpResponses.error(ctx.alloc(), api));
        } else if (cause instanceof CancellationException) {
            respond(null);
        } else {
            // the path only: the query may hold a token
            org.slf4j.LoggerFactory.getLogger(Exchange.class).error("request {} failed",
                    target == null ? "(held, path let go)" : target.substring(0, pathEnd(target)), cause);
            respond(HttpResponses.error(ctx.alloc(), HttpResponseStatus.INTERNAL_SERVER_ERROR, ErrorCode.INTERNAL.wire(),
                    "the server failed to handle the request"));
        }
    }

    /** Any thread. A null response just ends the exchange (the connection went away). */
    public void respond(FullHttpResponse response) {
        if (!ctx.executor().inEventLoop()) {
            Handoff.execute(ctx.executor(), () -> respond(response));
            return;
        }
        if (done) {
            if (response != null) {
                response.release();
            }
            return;
        }
        done = true;
        boolean close = !keepAlive || response == null
                || HttpHeaderValues.CLOSE.contentEqualsIgnoreCase(response.headers().get(HttpHeaderNames.CONNECTION));
        if (response != null) {
            if (close) {
                response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            } else if (http10) {
                response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            }
        }
        listener.answered(this, response, close);
    }

    /**
     * Answers with a response whose body follows for as long as the endpoint produces it. On the connection's loop,
     * from the endpoint's synchronous part. The head goes out now; the endpoint then writes the body on the
     * connection as {@link io.netty.handler.codec.http.HttpContent}s, ends it with
     * {@link io.netty.handler.codec.http.LastHttpContent} and closes the connection. The head says so
     * ({@code Connection: close}): nothing the client sends after this request is served. The body is chunked for
     * HTTP/1.1; an HTTP/1.0 client, which knows no chunks, reads it until the connection closes.
     */
    public void stream(HttpResponse head) {
        done = true;
        HttpUtil.setTransferEncodingChunked(head, !http10);
        head.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        listener.streaming(this, head);
    }

    /** The endpoint now owns the connection (it answered a refused upgrade itself); no response will follow. */
    public void takeOver() {
        done = true;
        listener.takenOver(this);
    }

    /**
     * The connection now speaks another protocol (WebSocket), whose handlers the endpoint adds; the HTTP-only handlers
     * leave the pipeline and no response will follow.
     */
    public void upgrade() {
        done = true;
        listener.upgraded(this);
    }

    /** The connection ends after this exchange's answer, whatever the client asked for. */
    public void closeAfterAnswer() {
        keepAlive = false;
    }

    /** Whether the connection stays open after this exchange. */
    public boolean keepAlive() {
        return keepAlive;
    }

    /** The connection closed while this exchange was open: drop what it waits for. */
    public void abandon() {
        if (pending != null && !pending.isDone()) {
            pending.cancel(false);
        }
        done = true;
    }

    public boolean isDone() {
        return done;
    }
}
