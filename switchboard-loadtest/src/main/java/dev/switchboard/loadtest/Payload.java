package dev.switchboard.loadtest;

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
    /** Room for the send time, a publisher index ({@code int}) and a sequence number, each with a space. */
    static final int MIN_SEQUENCED_SIZE = MIN_SIZE + 11 + 20;

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

    int size() {
        return size;
    }

    ByteBuf encode(ByteBufAllocator alloc, long sentNanos) {
        ByteBuf body = alloc.buffer(size);
        ByteBufUtil.writeAscii(body, Long.toString(sentNanos));
        body.writeByte(' ');
        return body.writeBytes(padding, 0, size - body.readableBytes());
    }

    /**
     * The payload as a JSON string ({@code "<nanoTime> xx…"}, quotes included, {@code size} bytes in all), for batch
     * publish, whose messages are JSON values. Nothing in it needs escaping.
     */
    void encodeJsonString(ByteBuf out, long sentNanos) {
        int start = out.writerIndex();
        out.writeByte('"');
        ByteBufUtil.writeAscii(out, Long.toString(sentNanos));
        out.writeByte(' ');
        out.writeBytes(padding, 0, size - 1 - (out.writerIndex() - start));
        out.writeByte('"');
    }

    /**
     * For peers that give no offsets: the send time, a space, the publisher's index, a space, its sequence
     * number (1, 2, ...), a space, then padding up to {@code size}, written to {@code out}.
     */
    void encodeSequenced(ByteBuf out, long sentNanos, int publisher, long sequence) {
        int start = out.writerIndex();
        ByteBufUtil.writeAscii(out, Long.toString(sentNanos));
        out.writeByte(' ');
        ByteBufUtil.writeAscii(out, Integer.toString(publisher));
        out.writeByte(' ');
        ByteBufUtil.writeAscii(out, Long.toString(sequence));
        out.writeByte(' ');
        int written = out.writerIndex() - start;
        if (written > size) {
            throw new IllegalStateException("payload size " + size + " too small for its header");
        }
        out.writeBytes(padding, 0, size - written);
    }

    /** The send time written at {@code index}, the first byte of a received payload (or its JSON string's quote). */
    static long sentNanos(ByteBuf buf, int index) {
        return Ascii.parseLong(buf, index < buf.writerIndex() && buf.getByte(index) == '"' ? index + 1 : index);
    }

    /** The send time at the start of {@code data[0, length)}, a received payload (or its JSON string). */
    static long sentNanos(byte[] data, int length) {
        return Ascii.parseLong(data, length > 0 && data[0] == '"' ? 1 : 0, length);
    }

    /**
     * Reads a payload written by {@link #encodeSequenced}, {@code data[0, length)}, and hands it to
     * {@code subscriber}.
     *
     * @throws NumberFormatException if the payload does not start with three numbers
     */
    static void deliverSequenced(byte[] data, int length, Subscriber<?> subscriber) {
        long sent = Ascii.parseLong(data, 0, length);
        int second = Ascii.indexOf(data, 0, length, (byte) ' ') + 1;
        int third = second == 0 ? 0 : Ascii.indexOf(data, second, length, (byte) ' ') + 1;
        if (third == 0) {
            throw new NumberFormatException("payload without publisher and sequence number");
        }
        subscriber.delivered((int) Ascii.parseLong(data, second, length), Ascii.parseLong(data, third, length), sent);
    }

    /** What {@link #encodeSequenced} wrote. */
    record Sequenced(long sentNanos, int publisher, long sequence) {
    }

    /**
     * Reads a payload written by {@link #encodeSequenced} that starts at {@code from}.
     *
     * @throws NumberFormatException if the payload does not start with three numbers
     */
    static Sequenced readSequenced(ByteBuf buf, int from) {
        int end = buf.writerIndex();
        long sent = Ascii.parseLong(buf, from);
        int second = buf.indexOf(from, end, (byte) ' ') + 1;
        int third = second == 0 ? 0 : buf.indexOf(second, end, (byte) ' ') + 1;
        if (third == 0) {
            throw new NumberFormatException("payload without publisher and sequence number");
        }
        return new Sequenced(sent, (int) Ascii.parseLong(buf, second), Ascii.parseLong(buf, third));
    }
}
