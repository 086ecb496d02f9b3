package dev.switchboard.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import java.util.Arrays;

/**
 * The benchmark's message body: exactly {@code size} bytes of printable ASCII, the sender's
 * {@link System#nanoTime()} in decimal, a space, then {@code x} padding. Publisher and subscribers share one
 * process, hence one clock, so the receiver subtracts that number from its own {@code nanoTime()}.
 */
final class Payload {
    /** Room for any {@code long} ("-" and 19 digits) and the space. */
    static final int MIN_SIZE = 21;

    private final int size;
    private final byte[] padding;

    Payload(int size) {
        if (size < MIN_SIZE) {
            throw new IllegalArgumentException("size must be at least " + MIN_SIZE + " bytes");
        }
        this.size = size;
        this.padding = new byte[size];
        Arrays.fill(padding, (byte) 'x');
    }

    ByteBuf encode(ByteBufAllocator alloc, long sentNanos) {
        ByteBuf body = alloc.buffer(size);
        ByteBufUtil.writeAscii(body, Long.toString(sentNanos));
        body.writeByte(' ');
        return body.writeBytes(padding, 0, size - body.readableBytes());
    }

    /** The send time written at {@code index}, the first byte of a received payload. */
    static long sentNanos(ByteBuf buf, int index) {
        return Ascii.parseLong(buf, index);
    }
}
