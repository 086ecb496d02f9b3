package dev.switchboard.loadtest;

import dev.switchboard.loadtest.Measurements.ErrorKind;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * One long poll on its own connection: {@code GET /v1/topics/TOPIC/messages?from=1&wait=…}, ready once the request
 * is flushed. The answer must hold exactly the topic's first message, whose payload ({@link Payload#encodeSequenced})
 * names this poll's index as its publisher; its send time gives the wake latency, taken once the whole answer is in.
 */
final class LongPollSubscriber extends Subscriber<FullHttpResponse> {
    private static final int MAX_RESPONSE_BYTES = 1024 * 1024;
    private static final int MAX_ERROR_BODY = 200;

    private final ServerEndpoint server;
    private final String topic;
    private final int index;
    private final String path;

    LongPollSubscriber(Measurements measurements, ServerEndpoint server, String topic, int index, Duration wait) {
        super(FullHttpResponse.class, measurements);
        this.server = server;
        this.topic = topic;
        this.index = index;
        this.path = server.longPollPath(topic, wait);
    }

    @Override
    protected void initPipeline(ChannelPipeline pipeline) {
        pipeline.addLast(new HttpClientCodec(), new HttpObjectAggregator(MAX_RESPONSE_BYTES), this);
    }

    @Override
    protected ChannelFuture closeGracefully(Channel channel) {
        return channel.close();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        DefaultFullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, path,
                Unpooled.EMPTY_BUFFER);
        request.headers().set(HttpHeaderNames.HOST, server.host());
        ctx.writeAndFlush(request).addListener(written -> {
            if (written.isSuccess()) {
                subscribed();
            } else {
                refused(written.cause());
            }
        });
        super.channelActive(ctx);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse response) {
        ByteBuf json = response.content();
        String body = json.toString(StandardCharsets.UTF_8);
        if (!response.status().equals(HttpResponseStatus.OK)) {
            measurements.error(ErrorKind.PROTOCOL, "GET " + path + " answered " + response.status() + " "
                    + body.substring(0, Math.min(body.length(), MAX_ERROR_BODY)));
            return;
        }
        try {
            int data = JsonFields.valueIndex(json, "data");
            if (data < 0 || json.getByte(data) != '"') {
                throw new NumberFormatException("the wait ended without a message");
            }
            // next = 2 after from = 1: the answer holds one message, offset 1.
            long next = JsonFields.longValue(json, "next");
            Payload.Sequenced message = Payload.readSequenced(json, data + 1);
            if (next != 2 || message.publisher() != index || !JsonFields.stringEquals(json, "topic", topic)) {
                throw new NumberFormatException("not exactly this topic's message");
            }
            delivered(JsonFields.longValue(json, "offset"), message.sentNanos());
        } catch (NumberFormatException e) {
            measurements.error(ErrorKind.PROTOCOL, "poll on " + topic + ": " + e.getMessage() + " in "
                    + body.substring(0, Math.min(body.length(), MAX_ERROR_BODY)));
        }
    }
}
