package dev.switchboard.codec.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;

/**
 * Collects a request body up to the message size limit. A larger body (declared or actual) is answered with the API's
 * JSON 413 and the connection is closed, so the unread rest of the body is never parsed as a next request.
 */
public final class BodyAggregator extends HttpObjectAggregator {
    public BodyAggregator(int maxBodyBytes) {
        super(maxBodyBytes);
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
