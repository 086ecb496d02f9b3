package dev.switchboard.loadtest;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;

/**
 * Publishes to Switchboard as batches ({@code POST /v1/topics/TOPIC/batch}, NDJSON, docs/api.md): the messages due
 * go in requests of up to {@code batch} messages each, pipelined over one keep-alive connection with at most the
 * window's messages unconfirmed. Each payload is a JSON string (batch messages are JSON). A {@code 201} confirms its
 * request's messages with the offset range it gives, which must hold exactly as many; HTTP/1.1 answers in order, so
 * a FIFO of request sizes pairs each answer with its request. The same load shape as Pushpin's publish, whose one
 * request carries many items.
 */
final class HttpBatchPublisher extends PacedPublisher<FullHttpResponse> {
    private static final int MAX_RESPONSE_BYTES = 64 * 1024;
    private static final int MAX_ERROR_BODY = 200;
    private static final String NDJSON = "application/x-ndjson";

    private final ServerEndpoint server;
    private final String path;
    private final Payload payload;
    private final int batch;
    /** Messages of each request not yet answered, oldest first (a ring: at most one request per message). */
    private final int[] requestSizes;
    private int oldestRequest;
    private int requests;
    private ByteBuf body;
    private int bodyMessages;

    /**
     * @param window        most messages unconfirmed
     * @param batch         most messages in one request
     * @param ratePerSecond this connection's share of the target rate; 0 = as fast as answers allow
     */
    HttpBatchPublisher(Measurements measurements, ServerEndpoint server, String topic, Payload payload, int window,
                       int batch, double ratePerSecond) {
        super(FullHttpResponse.class, measurements, window, ratePerSecond);
        this.server = server;
        this.path = server.batchPath(topic);
        this.payload = payload;
        this.batch = batch;
        this.requestSizes = new int[window];
    }

    @Override
    public void initPipeline(ChannelPipeline pipeline) {
        pipeline.addLast(new HttpClientCodec(), new HttpObjectAggregator(MAX_RESPONSE_BYTES), this);
    }

    /** HTTP needs no handshake: the connection may publish once it is open. */
    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        ready.complete(null);
        super.channelActive(ctx);
    }

    @Override
    protected void write(ChannelHandlerContext ctx, long sentAtNanos, long sequence) {
        if (body == null) {
            body = ctx.alloc().buffer(batch * (payload.size() + 1));
        }
        payload.encodeJsonString(body, sentAtNanos);
        body.writeByte('\n');
        if (++bodyMessages == batch) {
            sendBody(ctx);
        }
    }

    @Override
    protected void afterBatch(ChannelHandlerContext ctx, int messages) {
        if (body != null) {
            sendBody(ctx);
        }
    }

    private void sendBody(ChannelHandlerContext ctx) {
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, path, body);
        request.headers()
                .set(HttpHeaderNames.HOST, server.host())
                .set(HttpHeaderNames.CONTENT_TYPE, NDJSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
        requestSizes[(oldestRequest + requests) % requestSizes.length] = bodyMessages;
        requests++;
        body = null;
        bodyMessages = 0;
        ctx.write(request, ctx.voidPromise());
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse response) {
        if (requests == 0) {
            refused("an answer without a batch request: " + response.status());
            return;
        }
        int messages = requestSizes[oldestRequest];
        oldestRequest = (oldestRequest + 1) % requestSizes.length;
        requests--;
        String failure = failure(response, messages);
        if (failure == null) {
            long first = JsonFields.longValue(response.content(), "firstOffset");
            for (int i = 0; i < messages; i++) {
                confirmed(first + i);
            }
        } else {
            for (int i = 0; i < messages; i++) {
                refused(failure);
            }
        }
        fill();
    }

    /** Why the answer does not confirm {@code messages} stored at contiguous offsets, or null when it does. */
    private String failure(FullHttpResponse response, int messages) {
        ByteBuf json = response.content();
        if (!response.status().equals(HttpResponseStatus.CREATED)) {
            String text = json.toString(StandardCharsets.UTF_8);
            return "POST " + path + " answered " + response.status() + " "
                    + text.substring(0, Math.min(text.length(), MAX_ERROR_BODY));
        }
        try {
            long first = JsonFields.longValue(json, "firstOffset");
            long last = JsonFields.longValue(json, "lastOffset");
            long count = JsonFields.longValue(json, "count");
            return count == messages && last - first + 1 == messages ? null
                    : "batch of " + messages + " confirmed as offsets " + first + ".." + last + ", count " + count;
        } catch (NumberFormatException e) {
            return "201 without an offset range: " + e.getMessage();
        }
    }
}
