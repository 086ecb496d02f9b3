package dev.switchboard.jmh;

import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;

/** Benchmarks that encode an answer through a channel's HTTP encoder: what it wrote, counted and released. */
final class EncodedResponses {
    private EncodedResponses() {}

    /** Writes {@code response} out of {@code channel} and returns the bytes encoded for it. */
    static int bytesWritten(EmbeddedChannel channel, Object response) {
        channel.writeOutbound(response);
        int bytes = 0;
        for (ByteBuf out = channel.readOutbound(); out != null; out = channel.readOutbound()) {
            bytes += out.readableBytes();
            out.release();
        }
        return bytes;
    }
}
