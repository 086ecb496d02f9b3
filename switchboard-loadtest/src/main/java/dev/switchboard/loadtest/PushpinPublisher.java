package dev.switchboard.loadtest;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
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

/**
 * Publishes to Pushpin's HTTP publish endpoint ({@code POST /publish/}, GRIP's JSON items): each message is one SSE
 * event, {@code event: message} with the sequenced payload as its data, for the held streams of channel
 * {@code topic}. Pushpin answers a publish and closes the connection, so each batch of messages (up to the window)
 * goes as the items of one request on a connection of its own, and its {@code 200} confirms them all; the next batch
 * waits for that, which keeps one publisher's messages in order. The publisher's own connection to the publish port
 * only stands for it (and stays idle).
 */
final class PushpinPublisher extends PeerPublisher<Object> {
    private static final byte[] AFTER_ITEM = ascii("\\n\\n\"}}}");
    private final ServerEndpoint server;
    private final byte[] itemStart;
    private ByteBuf items;

    PushpinPublisher(Measurements measurements, ServerEndpoint server, String topic, Payload payload, int index,
                     int window, double ratePerSecond) {
        super(Object.class, measurements, payload, index, window, ratePerSecond);
        this.server = server;
        // The payload is printable ASCII without quotes or backslashes, so it goes into the JSON string as it is.
        this.itemStart = ascii("{\"channel\":\"" + topic
                + "\",\"formats\":{\"http-stream\":{\"content\":\"event: message\\ndata: ");
    }

    @Override
    public void initPipeline(ChannelPipeline pipeline) {
        pipeline.addLast(this);
    }

    /** Pushpin needs no handshake: the connection may publish once it is open. */
    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        ready.complete(null);
        super.channelActive(ctx);
    }

    @Override
    protected void writeMessage(ChannelHandlerContext ctx, ByteBuf payload) {
        if (items == null) {
            items = ctx.alloc().buffer().writeBytes(ascii("{\"items\":["));
        } else {
            items.writeByte(',');
        }
        items.writeBytes(itemStart).writeBytes(payload).writeBytes(AFTER_ITEM);
    }

    @Override
    protected void afterBatch(ChannelHandlerContext ctx, int messages) {
        ByteBuf body = items.writeBytes(ascii("]}"));
        items = null;
        boolean[] answered = new boolean[1]; // this request's: its connection closes after the answer
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/publish/", body);
        request.headers().set(HttpHeaderNames.HOST, server.host())
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
        new Bootstrap().group(ctx.channel().eventLoop()).channel(((SocketChannel) ctx.channel()).getClass())
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(64 * 1024),
                                new SimpleChannelInboundHandler<FullHttpResponse>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext c, FullHttpResponse r) {
                                        answered(answered, messages, r.status().equals(HttpResponseStatus.OK) ? null
                                                : "POST /publish/ answered " + r.status() + ": " + r.content()
                                                        .toString(StandardCharsets.UTF_8));
                                        c.close();
                                    }

                                    @Override
                                    public void channelInactive(ChannelHandlerContext c) {
                                        answered(answered, messages, "Pushpin closed the publish connection unanswered");
                                    }
                                });
                    }
                }).connect(ctx.channel().remoteAddress()).addListener((ChannelFutureListener) f -> {
                    if (f.isSuccess()) {
                        f.channel().writeAndFlush(request);
                    } else {
                        request.release();
                        answered(answered, messages, "cannot connect to Pushpin's publish port: " + f.cause());
                    }
                });
    }

    /** A batch's request was answered: {@code failure} null when Pushpin took all {@code messages}; once a request. */
    private void answered(boolean[] answered, int messages, String failure) {
        if (answered[0]) {
            return;
        }
        answered[0] = true;
        for (int i = 0; i < messages; i++) {
            if (failure == null) {
                confirmed();
            } else {
                refused(failure);
            }
        }
        fill();
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
        refused("Pushpin sent something on an idle connection");
    }
}
