package dev.switchboard.bench;

import dev.switchboard.bench.Measurements.ErrorKind;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler.ClientHandshakeStateEvent;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketVersion;
import java.nio.charset.StandardCharsets;

/**
 * Subscribes with {@code GET /v1/ws?subscribe=TOPIC&from=next}. Ready when the handshake completes: the
 * server subscribes on connect. A {@code subscribed} reply, which the server may add, is counted so the
 * benchmark can also wait for those. Pings are answered by Netty's protocol handler.
 */
final class WsSubscriber extends Subscriber<WebSocketFrame> {
    private static final int MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

    private final WebSocketClientProtocolConfig config;

    WsSubscriber(Measurements measurements, ServerEndpoint server, String topic) {
        super(WebSocketFrame.class, measurements);
        this.config = WebSocketClientProtocolConfig.newBuilder()
                .webSocketUri(server.webSocketUri(topic))
                .version(WebSocketVersion.V13)
                .maxFramePayloadLength(MAX_MESSAGE_BYTES)
                .handshakeTimeoutMillis(FanoutBenchmark.SETUP_TIMEOUT.toMillis())
                .handleCloseFrames(false)
                .build();
    }

    @Override
    protected void initPipeline(ChannelPipeline pipeline) {
        pipeline.addLast(new HttpClientCodec(),
                new HttpObjectAggregator(64 * 1024),
                new WebSocketClientProtocolHandler(config),
                new WebSocketFrameAggregator(MAX_MESSAGE_BYTES),
                this);
    }

    @Override
    protected ChannelFuture closeGracefully(Channel channel) {
        return channel.writeAndFlush(new CloseWebSocketFrame(WebSocketCloseStatus.NORMAL_CLOSURE))
                .addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt == ClientHandshakeStateEvent.HANDSHAKE_COMPLETE) {
            subscribed();
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
        if (frame instanceof TextWebSocketFrame) {
            onJson(frame.content());
        } else if (frame instanceof CloseWebSocketFrame close) {
            closingBecause("server closed the WebSocket: " + close.statusCode() + " " + close.reasonText());
            ctx.close();
        }
    }

    private void onJson(ByteBuf json) {
        try {
            if (JsonFields.stringEquals(json, "op", "message")) {
                int data = JsonFields.valueIndex(json, "data");
                if (data < 0 || json.getByte(data) != '"') {
                    throw new NumberFormatException("no string \"data\"");
                }
                delivered(JsonFields.longValue(json, "offset"), Payload.sentNanos(json, data + 1));
            } else if (JsonFields.stringEquals(json, "op", "subscribed")) {
                measurements.subscribeAcks.incrementAndGet();
            } else {
                measurements.error(ErrorKind.PROTOCOL, "unexpected " + json.toString(StandardCharsets.UTF_8));
            }
        } catch (NumberFormatException e) {
            measurements.error(ErrorKind.PROTOCOL, e.getMessage() + " in " + json.toString(StandardCharsets.UTF_8));
        }
    }
}

