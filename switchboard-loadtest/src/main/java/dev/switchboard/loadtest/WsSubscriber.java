package dev.switchboard.loadtest;

import dev.switchboard.loadtest.Measurements.ErrorKind;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import java.nio.charset.StandardCharsets;

/**
 * Subscribes with {@code GET /v1/ws?subscribe=TOPIC&from=next}. Ready when the upgrade completes: the server
 * subscribes on connect. A {@code subscribed} reply, which the server may add, is counted so the benchmark can
 * also wait for those. A stalling subscriber stops reading its socket at that reply ({@code autoRead} off), as a
 * reader that hangs would, so whatever the server sends it piles up in the socket buffers; the server may then
 * close it, which is not an error.
 */
final class WsSubscriber extends Subscriber<Object> {
    private static final int MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

    private final ServerEndpoint server;
    private final String topic;
    private final boolean stall;

    WsSubscriber(Measurements measurements, ServerEndpoint server, String topic) {
        this(measurements, server, topic, false);
    }

    /** @param stall whether to stop reading once the server has confirmed the subscription */
    WsSubscriber(Measurements measurements, ServerEndpoint server, String topic, boolean stall) {
        super(Object.class, measurements);
        this.server = server;
        this.topic = topic;
        this.stall = stall;
    }

    @Override
    protected boolean closeExpected() {
        return stall;
    }

    @Override
    protected void initPipeline(ChannelPipeline pipeline) {
        pipeline.addLast(new WsClientCodec(server.host(), server.webSocketPath(topic), MAX_MESSAGE_BYTES), this);
    }

    @Override
    protected ChannelFuture closeGracefully(Channel channel) {
        return WsClientCodec.closeNormally(channel);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt == WsClientCodec.HANDSHAKE_COMPLETE) {
            subscribed();
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Object frame) {
        if (frame instanceof ByteBuf text) {
            onJson(ctx, text);
        } else if (frame instanceof WsClientCodec.Closed close) {
            closingBecause("server closed the WebSocket: " + close.status() + " " + close.reason());
            ctx.close();
        }
    }

    private void onJson(ChannelHandlerContext ctx, ByteBuf json) {
        try {
            if (JsonFields.stringEquals(json, "op", "message")) {
                int data = JsonFields.valueIndex(json, "data");
                if (data < 0 || json.getByte(data) != '"') {
                    throw new NumberFormatException("no string \"data\"");
                }
                delivered(JsonFields.longValue(json, "offset"), Payload.sentNanos(json, data + 1));
            } else if (JsonFields.stringEquals(json, "op", "subscribed")) {
                measurements.subscribeAcks.incrementAndGet();
                if (stall) {
                    ctx.channel().config().setAutoRead(false);
                }
            } else {
                measurements.error(ErrorKind.PROTOCOL, "unexpected " + json.toString(StandardCharsets.UTF_8));
            }
        } catch (NumberFormatException e) {
            measurements.error(ErrorKind.PROTOCOL, e.getMessage() + " in " + json.toString(StandardCharsets.UTF_8));
        }
    }
}
