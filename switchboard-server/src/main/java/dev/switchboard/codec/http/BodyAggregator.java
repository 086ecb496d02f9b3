package dev.switchboard.codec.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.List;

/**
 * Collects a request body up to the message size limit. A larger body (declared or actual) is answered with the API's
 * JSON 413 and the connection is closed, so the unread rest of the body is never parsed as a next request.
 *
 * <p>A plain request (no {@code Expect}, no {@code Transfer-Encoding}, a declared length within the limit or none)
 * whose body the decoder hands over whole, as one last chunk, becomes a full request around that chunk's buffer: the
 * aggregator's composite buffer and its per-request state are for bodies that come in pieces (BENCHMARKS.md, "HTTP
 * publish: the request's own cost"). Anything else, and a body that arrives in pieces, goes the aggregator's way.
 */
public final class BodyAggregator extends HttpObjectAggregator {
    /** A plain request's head, held until the next object says whether its body came whole. */
    private HttpRequest plainHead;

    public BodyAggregator(int maxBodyBytes) {
        super(maxBodyBytes);
    }

    @Override
    public boolean acceptInboundMessage(Object msg) throws Exception {
        // The aggregator takes content only while it aggregates; a held head's body is this class's to take.
        return plainHead != null && msg instanceof HttpContent || super.acceptInboundMessage(msg);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, HttpObject msg, List<Object> out) throws Exception {
        HttpRequest head = plainHead;
        if (head == null) {
            if (isPlain(msg)) {
                plainHead = (HttpRequest) msg;
            } else {
                super.decode(ctx, msg, out);
            }
            return;
        }
        plainHead = null;
        if (msg instanceof LastHttpContent last && last.decoderResult().isSuccess()
                && last.content().readableBytes() <= maxContentLength()) {
            HttpHeaders headers = head.headers();
            if (!headers.contains(HttpHeaderNames.CONTENT_LENGTH)) { // as the aggregator does
                headers.setInt(HttpHeaderNames.CONTENT_LENGTH, last.content().readableBytes());
            }
            out.add(new DefaultFullHttpRequest(head.protocolVersion(), head.method(), head.uri(),
                    last.content().retain(), headers, last.trailingHeaders()));
            return;
        }
        super.decode(ctx, head, out);
        super.decode(ctx, msg, out);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
        if (plainHead != null && !ctx.channel().config().isAutoRead()) {
            ctx.read(); // as the aggregator does for a message it holds (the sidecar pauses reading): its body is due
        }
        super.channelReadComplete(ctx);
    }

    private boolean isPlain(HttpObject msg) {
        if (!(msg instanceof HttpRequest r) || msg instanceof FullHttpRequest || !r.decoderResult().isSuccess()) {
            return false;
        }
        HttpHeaders h = r.headers();
        return !h.contains(HttpHeaderNames.EXPECT) && !h.contains(HttpHeaderNames.TRANSFER_ENCODING)
                && HttpUtil.getContentLength(r, 0L) <= maxContentLength();
    }

    @Override
    protected Object newContinueResponse(HttpMessage start, int maxContentLength, ChannelPipeline pipeline) {
        // Only when the client waits for "100 Continue": otherwise it is already sending the body, and a declared
        // length over the limit goes to handleOversizedMessage, which lets the body drain while it closes.
        if (HttpUtil.is100ContinueExpected(start) && HttpUtil.getContentLength(start, -1L) > maxContentLength) {
            return HttpResponses.closing(tooLarge(pipeline.channel().alloc(), maxContentLength));
        }
        return super.newContinueResponse(start, maxContentLength, pipeline);
    }

    @Override
    protected boolean closeAfterContinueResponse(Object response) {
        return response instanceof io.netty.handler.codec.http.FullHttpResponse r
                && r.status().code() == 413 || super.closeAfterContinueResponse(response);
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
        ctx.writeAndFlush(HttpResponses.closing(tooLarge(ctx.alloc(), maxContentLength())))
                .addListener(f -> LingeringClose.close(ctx.channel()));
    }

    private static io.netty.handler.codec.http.FullHttpResponse tooLarge(io.netty.buffer.ByteBufAllocator alloc,
                                                                        int max) {
        return HttpResponses.error(alloc, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "payload_too_large",
                "the body is larger than the limit of " + max + " bytes");
    }
}
