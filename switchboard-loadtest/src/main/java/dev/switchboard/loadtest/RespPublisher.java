package dev.switchboard.loadtest;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;

/**
 * Publishes to Redis with pipelined commands, {@link Command#PUBLISH} or {@link Command#XADD}; each reply of the
 * command's kind confirms the oldest command, since Redis answers a connection in order.
 */
final class RespPublisher extends PeerPublisher<Object> {

    /** How a message is sent, and the reply that confirms it. */
    enum Command {
        /** {@code PUBLISH topic payload} (pub/sub), confirmed by the number of subscribers that got it. */
        PUBLISH,
        /** {@code XADD topic * p payload} (a stream, durable under {@code appendfsync always}), confirmed by its ID. */
        XADD
    }

    private final Command command;
    private final byte[] prefix;

    RespPublisher(Measurements measurements, Command command, String topic, Payload payload, int index, int window,
                  double ratePerSecond) {
        super(Object.class, measurements, payload, index, window, ratePerSecond);
        this.command = command;
        String key = "$" + topic.length() + "\r\n" + topic + "\r\n";
        String head = switch (command) {
            case PUBLISH -> "*3\r\n$7\r\nPUBLISH\r\n" + key;
            case XADD -> "*5\r\n$4\r\nXADD\r\n" + key + "$1\r\n*\r\n$1\r\np\r\n";
        };
        this.prefix = ascii(head + "$" + payload.size() + "\r\n");
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
        boolean expected = switch (command) {
            case PUBLISH -> reply instanceof Long;
            case XADD -> reply instanceof byte[];
        };
        if (expected) {
            confirmed();
        } else if (reply instanceof RespDecoder.Error error) {
            refused(command + " answered " + error.message());
        } else {
            refused(command + " answered " + reply);
        }
        fill();
    }
}
