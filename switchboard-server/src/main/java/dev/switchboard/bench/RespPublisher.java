package dev.switchboard.bench;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;

/**
 * Publishes to Redis with pipelined {@code PUBLISH topic payload} commands; each integer reply (the number of
 * subscribers that received it) confirms the oldest command, since Redis answers a connection in order.
 */
final class RespPublisher extends PeerPublisher<Object> {
    private final byte[] prefix;

    RespPublisher(Measurements measurements, String topic, Payload payload, int index, int window,
                  double ratePerSecond) {
        super(Object.class, measurements, payload, index, window, ratePerSecond);
        this.prefix = ascii("*3\r\n$7\r\nPUBLISH\r\n$" + topic.length() + "\r\n" + topic + "\r\n$"
                + payload.size() + "\r\n");
    }

    @Override
    public void initPipeline(ChannelPipeline pipeline) {
        pipeline.addLast(new RespDecoder(), this);
    }

    /** Redis needs no handshake: the connection may publish once it is open. */
    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        ready.complete(null);
        super.channelActive(ctx);
    }

    @Override
    protected void writeMessage(ChannelHandlerContext ctx, ByteBuf payload) {
        ByteBuf command = ctx.alloc().buffer(prefix.length + payload.readableBytes() + 2);
        command.writeBytes(prefix).writeBytes(payload).writeByte('\r').writeByte('\n');
        ctx.write(command, ctx.voidPromise());
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Object reply) {
        if (reply instanceof Long) {
            confirmed();
        } else if (reply instanceof RespDecoder.Error error) {
            refused("PUBLISH answered " + error.message());
        } else {
            refused("PUBLISH answered " + reply);
        }
        fill();
    }
}
