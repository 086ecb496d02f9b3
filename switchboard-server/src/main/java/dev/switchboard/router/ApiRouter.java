package dev.switchboard.router;

import dev.switchboard.broker.ApiException;
import dev.switchboard.codec.http.Exchange;
import dev.switchboard.codec.http.HttpResponses;
import dev.switchboard.codec.http.LingeringClose;
import dev.switchboard.codec.http.RequestTimeouts;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last HTTP handler of a connection: takes each decoded request to its endpoint through {@link Routes}. Requests
 * are answered in the order they arrived, one at a time, so a pipelining client gets its responses in order even when
 * the first is a held long poll; at most {@link #MAX_PIPELINED} may wait behind it.
 */
public final class ApiRouter extends ChannelInboundHandlerAdapter implements Exchange.Listener {
    private static final Logger log = LoggerFactory.getLogger(ApiRouter.class);
    static final int MAX_PIPELINED = 16;

    private final Routes routes;
    private final ArrayDeque<FullHttpRequest> waiting = new ArrayDeque<>();
    private Exchange current;
    private ChannelHandlerContext ctx;

    public ApiRouter(Routes routes) {
        this.routes = routes;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest request)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (current != null) {
            if (waiting.size() >= MAX_PIPELINED) {
                request.release();
                ctx.close();
                return;
            }
            waiting.add(request);
            return;
        }
        start(request);
    }

    private void start(FullHttpRequest request) {
        RequestTimeouts timeouts = ctx.pipeline().get(RequestTimeouts.class);
        if (timeouts != null) {
            timeouts.headReceived();
        }
        Exchange exchange = new Exchange(ctx, request, this);
        current = exchange;
        try {
            if (request.decoderResult().isFailure()) {
                refuseMalformed(exchange, request.decoderResult().cause());
            } else {
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
    public void finished(Exchange exchange, boolean close) {
        if (exchange != current) {
            return;
        }
        current = null;
        if (close) {
            ctx.channel().writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER)
                    .addListener(f -> LingeringClose.close(ctx.channel()));
            return;
        }
        if (ctx.pipeline().get(ApiRouter.class) != this) {
            return; // taken over by a stream or an upgrade
        }
        RequestTimeouts timeouts = ctx.pipeline().get(RequestTimeouts.class);
        if (timeouts != null) {
            timeouts.responseSent();
        }
        FullHttpRequest next = waiting.poll();
        if (next != null) {
            start(next);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (current != null) {
            current.abandon();
            current = null;
        }
        waiting.forEach(FullHttpRequest::release);
        waiting.clear();
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("connection {} failed", ctx.channel().remoteAddress(), cause);
        ctx.close();
    }
}
