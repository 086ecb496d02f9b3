package dev.switchboard.loadtest;

import dev.switchboard.loadtest.Measurements.ErrorKind;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;

/**
 * Subscribes to a Redis channel with {@code SUBSCRIBE topic}; ready on the {@code subscribe} reply. Each
 * {@code message} push carries a payload written by {@link Payload#encodeSequenced}.
 */
final class RespSubscriber extends Subscriber<Object> {
    private static final byte[] MESSAGE = PeerPublisher.ascii("message");
    private static final byte[] SUBSCRIBE = PeerPublisher.ascii("subscribe");

    private final byte[] command;

    RespSubscriber(Measurements measurements, String topic, int publishers) {
        super(Object.class, measurements, publishers);
        this.command = PeerPublisher.ascii("*2\r\n$9\r\nSUBSCRIBE\r\n$" + topic.length() + "\r\n" + topic + "\r\n");
    }

    @Override
    protected void initPipeline(ChannelPipeline pipeline) {
        pipeline.addLast(new RespDecoder(), this);
    }

    @Override
    protected ChannelFuture closeGracefully(Channel channel) {
        return channel.close();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        ctx.writeAndFlush(Unpooled.wrappedBuffer(command));
        super.channelActive(ctx);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Object value) {
        if (value instanceof List<?> push && push.size() == 3 && push.get(0) instanceof byte[] kind) {
            if (Arrays.equals(kind, MESSAGE) && push.get(2) instanceof byte[] payload) {
                try {
                    Payload.deliverSequenced(payload, payload.length, this);
                } catch (NumberFormatException e) {
                    measurements.error(ErrorKind.PROTOCOL, e.getMessage());
                }
                return;
            }
            if (Arrays.equals(kind, SUBSCRIBE)) {
                subscribed();
                return;
            }
        }
        if (value instanceof RespDecoder.Error error) {
            refused(new IOException("Redis refused SUBSCRIBE: " + error.message()));
        }
        measurements.error(ErrorKind.PROTOCOL, "unexpected Redis reply " + value);
    }
}
