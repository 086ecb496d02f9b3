package dev.switchboard.router;

import dev.switchboard.auth.PublishLimiter;
import dev.switchboard.codec.http.BodyAggregator;
import dev.switchboard.codec.http.Exchange;
import dev.switchboard.codec.http.HttpResponses;
import dev.switchboard.codec.http.LingeringClose;
import dev.switchboard.codec.http.RequestTimeouts;
import dev.switchboard.wire.ApiException;
import dev.switchboard.xray.ConnectionStats;
import dev.switchboard.xray.Transport;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.codec.http.cors.CorsHandler;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last HTTP handler of a connection: takes each decoded request to its endpoint through {@link Routes}. Responses
 * go out in the order the requests arrived (RFC 9112 9.3.2), even when the first is a held long poll; at most
 * {@link #MAX_PIPELINED} requests may wait. A request starts once every earlier one is answered, except that a run
 * of pipelined publishes starts at once: the log applies them in arrival order, which is all that waiting would
 * guarantee, and one group commit can then carry the whole run instead of one publish per round trip.
 *
 * <p>A streaming response (SSE) is the last one of its connection: once its head is out, no request is parsed any
 * more; what the client still sends arrives here as bytes and is dropped, and nothing waiting behind it is served.
 * The stream stays in flight until the connection closes, so {@link RequestTimeouts} never times it out.
 */
public final class ApiRouter extends ChannelInboundHandlerAdapter implements Exchange.Listener {
    private static final Logger log = LoggerFactory.getLogger(ApiRouter.class);
    static final int MAX_PIPELINED = 16;

    private final Routes routes;
    private final Duration answerTimeout;
    private final PublishLimiter.Budget publishBudget;
    /** Started and not yet written, in arrival order. */
    // Sized for one request (they grow when a client pipelines): the default is 16 slots per connection.
    private final ArrayDeque<Started> started = new ArrayDeque<>(1);
    private final ArrayDeque<FullHttpRequest> waiting = new ArrayDeque<>(1);
    private ChannelHandlerContext ctx;
    private boolean closing;
    /** Set on a connection past a connection limit: its requests are refused with this, operations excepted. */
    private ApiException refusal;
    /** Fires at the earliest deadline of the exchanges awaiting an answer: one timer per connection, not per request. */
    private ScheduledFuture<?> deadlineTimer;
    private long deadlineTimerAt;

    /** An exchange and, once the endpoint answered, what to write for it. */
    private static final class Started {
        final Exchange exchange;
        final boolean publish;
        boolean answered;
        FullHttpResponse response;
        boolean close;

        Started(Exchange exchange, boolean publish) {
            this.exchange = exchange;
            this.publish = publish;
        }
    }

    public ApiRouter(Routes routes, Duration answerTimeout) {
        this.routes = routes;
        this.answerTimeout = answerTimeout;
        this.publishBudget = routes.publishBudget();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    /**
     * This connection is past a connection limit: each request is answered with {@code why} (with
     * {@code Retry-After}) and the connection closes, except that health checks and metrics are served (then the
     * connection closes too), so that a full server can still be watched.
     */
    public void refuseRequests(ApiException why) {
        this.refusal = why;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest request)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (closing) {
            request.release();
        } else if (started.isEmpty() || (waiting.isEmpty() && joinsPublishRun(request))) {
            start(request);
        } else if (waiting.size() >= MAX_PIPELINED) {
            request.release();
            ctx.close();
        } else {
            waiting.add(request);
        }
    }

    /** Whether this request may start while the ones started are still open: publishes behind publishes only. */
    private boolean joinsPublishRun(FullHttpRequest request) {
        if (!Routes.isPublish(request) || started.size() >= MAX_PIPELINED) {
            return false;
        }
        for (Started s : started) {
            if (!s.publish || !s.exchange.keepAlive()) {
                return false;
            }
        }
        return true;
    }

    private void start(FullHttpRequest request) {
        RequestTimeouts timeouts = ctx.pipeline().get(RequestTimeouts.class);
        if (timeouts != null) {
            timeouts.headReceived();
        }
        Exchange exchange = new Exchange(ctx, request, this, answerTimeout,
                ConnectionStats.of(ctx.channel()).stageStart(), publishBudget);
        started.add(new Started(exchange, Routes.isPublish(request)));
        try {
            if (request.decoderResult().isFailure()) {
                refuseMalformed(exchange, request.decoderResult().cause());
            } else if (refusal != null && !Routes.isOperations(exchange.path())) {
                exchange.respond(HttpResponses.closing(HttpResponses.error(ctx.alloc(), refusal)));
            } else {
                if (refusal != null) {
                    exchange.closeAfterAnswer();
                }
                routes.dispatch(exchange);
            }
        } catch (ApiException e) {
            exchange.respond(HttpResponses.error(ctx.alloc(), e));
        } catch (RuntimeException e) {
            exchange.fail(e);
        } finally {
            request.release();
        }
    }

    private void refuseMalformed(Exchange exchange, Throwable cause) {
        HttpResponseStatus status;
        String code;
        if (cause instanceof TooLongHttpHeaderException) {
            status = HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE;
            code = "headers_too_large";
        } else if (cause instanceof TooLongHttpLineException || cause instanceof TooLongFrameException) {
            status = HttpResponseStatus.REQUEST_URI_TOO_LONG;
            code = "uri_too_long";
        } else {
            status = HttpResponseStatus.BAD_REQUEST;
            code = "malformed_request";
        }
        exchange.respond(HttpResponses.closing(HttpResponses.error(ctx.alloc(), status, code,
                "the request could not be parsed: " + cause.getMessage())));
    }

    @Override
    public void answered(Exchange exchange, FullHttpResponse response, boolean close) {
        Started answered = find(exchange);
        if (answered == null) {
            if (response != null) {
                response.release();
            }
            return;
        }
        ConnectionStats.of(ctx.channel()).use(Transport.HTTP); // a long poll answered leaves plain HTTP
        answered.answered = true;
        answered.response = response;
        answered.close = close;
        writeAnswered();
    }

    @Override
    public void awaiting(Exchange exchange) {
        armDeadlineTimer(exchange.deadline());
        if (exchange.waitsByDesign()) {
            RequestTimeouts timeouts = ctx.pipeline().get(RequestTimeouts.class);
            if (timeouts != null) {
                timeouts.held();
            }
        }
    }

    /** Arms the timer for {@code at} unless it already fires no later (an answer given early leaves it armed). */
    private void armDeadlineTimer(long at) {
        if (deadlineTimer != null) {
            if (deadlineTimerAt - at <= 0) {
                return;
            }
            deadlineTimer.cancel(false);
        }
        deadlineTimerAt = at;
        deadlineTimer = ctx.executor().schedule(this::expireDue, at - System.nanoTime(), TimeUnit.NANOSECONDS);
    }

    private void expireDue() {
        deadlineTimer = null;
        long now = System.nanoTime();
        List<Exchange> due = started.stream().map(s -> s.exchange)
                .filter(e -> e.awaitingAnswer() && e.deadline() - now <= 0).toList();
        due.forEach(Exchange::expire); // answers them, which may start the requests waiting behind
        started.stream().map(s -> s.exchange).filter(Exchange::awaitingAnswer).mapToLong(Exchange::deadline)
                .reduce((a, b) -> a - b <= 0 ? a : b).ifPresent(this::armDeadlineTimer);
    }

    @Override
    public void streaming(Exchange exchange, HttpResponse head) {
        Started s = find(exchange);
        if (s == null) {
            return; // the connection went away; the endpoint's stream finds it closed
        }
        started.remove(s); // only a publish starts while others are open, so the stream is alone
        closing = true;
        dropOpen();
        ctx.writeAndFlush(head);
        stopParsing();
    }

    /**
     * Takes the HTTP decoder out of the codec (its encoder stays for the stream). Bytes it held and bytes still to
     * come pass through undecoded, to {@link #channelRead}, which drops them: nothing after the stream is parsed, so
     * neither CORS nor the aggregator answers anything in the middle of it.
     */
    private void stopParsing() {
        HttpServerCodec codec = ctx.pipeline().get(HttpServerCodec.class);
        if (codec != null) {
            codec.removeInboundHandler();
        }
    }

    @Override
    public void takenOver(Exchange exchange) {
        Started s = find(exchange);
        if (s != null) {
            started.remove(s); // an upgrade starts only when nothing else is open
            writeAnswered();   // the endpoint answered by itself and left the router in place (a refused upgrade)
        }
    }

    @Override
    public void upgraded(Exchange exchange) {
        started.remove(find(exchange)); // an upgrade starts only when nothing else is open
        ChannelPipeline p = ctx.pipeline();
        if (p.get(RequestTimeouts.class) != null) {
            p.remove(RequestTimeouts.class);
        }
        if (p.get(CorsHandler.class) != null) {
            p.remove(CorsHandler.class);
        }
        // Every frame of the socket would pass it, and each idle connection would keep it (BENCHMARKS.md, "Idle
        // memory per connection"); Netty's handshaker takes out only the first HttpObjectAggregator, h2c's.
        if (p.get(BodyAggregator.class) != null) {
            p.remove(BodyAggregator.class);
        }
        p.remove(this);
    }

    private Started find(Exchange exchange) {
        for (Started s : started) {
            if (s.exchange == exchange) {
                return s;
            }
        }
        return null;
    }

    /** Writes the answers at the head of the line, flushes once, then starts what waited behind them. */
    private void writeAnswered() {
        boolean wrote = false;
        while (!started.isEmpty() && started.peek().answered) {
            Started head = started.poll();
            if (head.response != null) {
                ctx.write(head.response);
                wrote = true;
            }
            if (head.close) {
                closing = true;
                dropOpen();
                ctx.channel().writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER)
                        .addListener(f -> LingeringClose.close(ctx.channel()));
                return;
            }
        }
        if (wrote) {
            ctx.flush();
        }
        if (!started.isEmpty() || ctx.pipeline().get(ApiRouter.class) != this) {
            return; // still waiting for the head, or the connection was taken over by an upgrade
        }
        RequestTimeouts timeouts = ctx.pipeline().get(RequestTimeouts.class);
        if (timeouts != null) {
            timeouts.responseSent();
        }
        FullHttpRequest next = waiting.poll();
        if (next != null) {
            start(next);
            while (!waiting.isEmpty() && joinsPublishRun(waiting.peek())) {
                start(waiting.poll());
            }
        }
    }

    /** Releases every exchange not yet written and every request not yet started. */
    private void dropOpen() {
        for (Started s : started) {
            s.exchange.abandon();
            if (s.response != null) {
                s.response.release();
            }
        }
        started.clear();
        waiting.forEach(FullHttpRequest::release);
        waiting.clear();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        dropOpen();
        if (deadlineTimer != null) {
            deadlineTimer.cancel(false);
        }
        super.channelInactive(ctx);
    }

    /**
     * A peer that went away (a reset, a body cut short) is routine and logged at debug; anything else failed in this
     * server's handlers, closes the connection under requests the client is owed answers for, and is logged as such.
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof IOException || !ctx.channel().isActive()) {
            log.debug("connection {} failed", ctx.channel().remoteAddress(), cause);
        } else {
            log.warn("connection {} failed in the server; closing it with {} requests unanswered",
                    ctx.channel().remoteAddress(), started.size() + waiting.size(), cause);
        }
        ctx.close();
    }
}
