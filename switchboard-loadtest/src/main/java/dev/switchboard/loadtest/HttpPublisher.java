package dev.switchboard.loadtest;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;

/**
 * Publishes to Switchboard over one keep-alive HTTP/1.1 connection with up to {@code inflight} requests pipelined:
 * HTTP/1.1 answers pipelined requests in order, so each {@code 201} confirms the oldest request, with the offset the
 * server gave it. Each payload carries the {@code nanoTime()} taken just before its request is written.
 */
final class HttpPublisher extends PacedPublisher<FullHttpResponse> {
    private static final int MAX_RESPONSE_BYTES = 1024 * 1024;
    private static final int MAX_ERROR_BODY = 200;

    private final ServerEndpoint server;
    private final Messages messages;

    /** What a connection's message number {@code sequence} (1, 2, ...) is: its topic and its body. */
    interface Messages {
        String topic(long sequence);

        ByteBuf body(ByteBufAllocator alloc, long sentAtNanos, long sequence);

        /** Whether every message goes to the same topic, whose offsets then increase. */
        boolean oneTopic();
    }

    /** Every message to {@code topic}, with a {@link Payload#encode timed payload}. */
    static Messages toTopic(String topic, Payload payload) {
        return new Messages() {
            @Override
            public String topic(long sequence) {
                return topic;
            }

            @Override
            public ByteBuf body(ByteBufAllocator alloc, long sentAtNanos, long sequence) {
                return payload.encode(alloc, sentAtNanos);
            }

            @Override
            public boolean oneTopic() {
                return true;
            }
        };
    }

    /** @param ratePerSecond this connection's share of the target rate; 0 = as fast as responses allow */
    HttpPublisher(Measurements measurements, ServerEndpoint server, Messages messages, int inflight,
                  double ratePerSecond) {
        super(FullHttpResponse.class, measurements, inflight, ratePerSecond);
        this.server = server;
        this.messages = messages;
    }

    @Override
    public void initPipeline(ChannelPipeline pipeline) {
        pipeline.addLast(new HttpClientCodec(), new HttpObjectAggregator(MAX_RESPONSE_BYTES), this);
    }

    /** HTTP needs no handshake: the connection may publish once it is open. */
    @Override
    public CompletableFuture<Void> ready() {
        return CompletableFuture.completedFuture(null);
    }

    @Override
    protected boolean offsetsIncrease() {
        return messages.oneTopic();
    }

    @Override
    protected void write(ChannelHandlerContext ctx, long sentAtNanos, long sequence) {
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST,
                server.publishPath(messages.topic(sequence)), messages.body(ctx.alloc(), sentAtNanos, sequence));
        request.headers()
                .set(HttpHeaderNames.HOST, server.host())
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, request.content().readableBytes());
        ctx.write(request, ctx.voidPromise());
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse response) {
        if (!response.status().equals(HttpResponseStatus.CREATED)) {
            String body = response.content().toString(StandardCharsets.UTF_8);
            refused("POST " + server.publishPath(messages.topic(oldestSequence())) + " answered " + response.status() + " "
                    + body.substring(0, Math.min(body.length(), MAX_ERROR_BODY)));
        } else {
            try {
                confirmed(JsonFields.longValue(response.content(), "offset"));
            } catch (NumberFormatException e) {
                refused("201 without an offset: " + e.getMessage());
            }
        }
        fill();
    }
}
