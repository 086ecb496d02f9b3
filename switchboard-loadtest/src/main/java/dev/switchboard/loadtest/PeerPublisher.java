package dev.switchboard.loadtest;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import java.nio.charset.StandardCharsets;

/**
 * Publishes to a peer (Redis, NATS). Peers assign no offsets, so each payload carries this publisher's index and
 * sequence number after the send time ({@link Payload#encodeSequenced}), and a confirmation stands for the oldest
 * sequence number still unconfirmed.
 */
abstract class PeerPublisher<I> extends PacedPublisher<I> {
    private final Payload payload;
    private final int index;

    /** @param index this publisher's number, written in every payload */
    PeerPublisher(Class<I> inboundType, Measurements measurements, Payload payload, int index, int window,
                  double ratePerSecond) {
        super(inboundType, measurements, window, ratePerSecond);
        this.payload = payload;
        this.index = index;
    }

    /** Writes (without flushing) one message whose payload is {@code payload}. */
    protected abstract void writeMessage(ChannelHandlerContext ctx, ByteBuf payload);

    @Override
    protected final void write(ChannelHandlerContext ctx, long sentAtNanos, long sequence) {
        ByteBuf body = ctx.alloc().buffer(payload.size());
        try {
            payload.encodeSequenced(body, sentAtNanos, index, sequence);
            writeMessage(ctx, body);
        } finally {
            body.release();
        }
    }

    /** The oldest unconfirmed message was published. */
    protected final void confirmed() {
        confirmed(oldestSequence());
    }

    static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }
}
