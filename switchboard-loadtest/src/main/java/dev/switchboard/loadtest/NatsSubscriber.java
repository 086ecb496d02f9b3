package dev.switchboard.loadtest;

import dev.switchboard.loadtest.Measurements.ErrorKind;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import java.io.IOException;

/**
 * Subscribes to a NATS subject: on the server's {@code INFO}, sends {@code CONNECT}, {@code SUB topic 1} and a
 * {@code PING}; the {@code PONG} means the subscription is registered. Answers the server's pings.
 */
final class NatsSubscriber extends Subscriber<NatsDecoder.Frame> {
    private final byte[] sub;
    private boolean handshakeSent;

    NatsSubscriber(Measurements measurements, String topic, int publishers) {
        super(NatsDecoder.Frame.class, measurements, publishers);
        this.sub = PeerPublisher.ascii("SUB " + topic + " 1\r\n");
    }

    @Override
    protected void initPipeline(ChannelPipeline pipeline) {
        pipeline.addLast(new NatsDecoder(), this);
    }

    @Override
    protected ChannelFuture closeGracefully(Channel channel) {
        return channel.close();
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, NatsDecoder.Frame frame) {
        switch (frame) {
            case NatsDecoder.Msg msg -> {
                try {
                    Payload.deliverSequenced(msg.payload(), msg.payload().length, this);
                } catch (NumberFormatException e) {
                    measurements.error(ErrorKind.PROTOCOL, e.getMessage());
                }
            }
            case NatsDecoder.Ping ping -> ctx.writeAndFlush(Unpooled.wrappedBuffer(NatsPublisher.PONG));
            case NatsDecoder.Pong pong -> subscribed();
            case NatsDecoder.Info info -> {
                if (!handshakeSent) {
                    handshakeSent = true;
                    ctx.write(Unpooled.wrappedBuffer(NatsPublisher.CONNECT));
                    ctx.write(Unpooled.wrappedBuffer(sub));
                    ctx.writeAndFlush(Unpooled.wrappedBuffer(NatsPublisher.PING));
                }
            }
            case NatsDecoder.Err err -> {
                closingBecause("NATS -ERR " + err.message());
                refused(new IOException("NATS -ERR " + err.message()));
            }
            case NatsDecoder.Ok ok -> {
            }
        }
    }
}
