package dev.switchboard.loadtest;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.TooLongFrameException;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes the RESP2 replies and pushes Redis sends into plain values: a simple string is a {@link String}, an
 * error a {@link Error}, an integer a {@link Long}, a bulk string a {@code byte[]}, an array a {@code List};
 * a null bulk string or array is {@link #NULL}. A value split across reads is decoded once all of it has
 * arrived (the bytes before it stay in the cumulation buffer).
 */
final class RespDecoder extends ByteToMessageDecoder {
    /** The null bulk string or array. */
    static final Object NULL = new Object() {
        @Override
        public String toString() {
            return "(nil)";
        }
    };
    private static final int MAX_BULK_BYTES = 64 * 1024 * 1024;
    private static final int MAX_LINE_BYTES = 64 * 1024;
    private static final Object INCOMPLETE = new Object();

    /** An error reply, {@code -ERR ...}. */
    record Error(String message) {
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (in.isReadable()) {
            int start = in.readerIndex();
            Object value = value(in);
            if (value == INCOMPLETE) {
                in.readerIndex(start);
                return;
            }
            out.add(value);
        }
    }

    private static Object value(ByteBuf in) {
        int lineEnd = lineEnd(in);
        if (lineEnd < 0) {
            return INCOMPLETE;
        }
        byte type = in.readByte();
        int from = in.readerIndex();
        in.readerIndex(lineEnd + 2);
        return switch (type) {
            case '+' -> in.toString(from, lineEnd - from, java.nio.charset.StandardCharsets.UTF_8);
            case '-' -> new Error(in.toString(from, lineEnd - from, java.nio.charset.StandardCharsets.UTF_8));
            case ':' -> number(in, from, lineEnd);
            case '$' -> bulk(in, number(in, from, lineEnd));
            case '*' -> array(in, number(in, from, lineEnd));
            default -> throw new CorruptedFrameException("unknown RESP type byte " + (type & 0xff));
        };
    }

    private static Object bulk(ByteBuf in, long length) {
        if (length < 0) {
            return NULL;
        }
        if (length > MAX_BULK_BYTES) {
            throw new TooLongFrameException("bulk string of " + length + " bytes");
        }
        if (in.readableBytes() < length + 2) {
            return INCOMPLETE;
        }
        byte[] bytes = new byte[(int) length];
        in.readBytes(bytes);
        if (in.readByte() != '\r' || in.readByte() != '\n') {
            throw new CorruptedFrameException("bulk string not followed by CRLF");
        }
        return bytes;
    }

    private static Object array(ByteBuf in, long count) {
        if (count < 0) {
            return NULL;
        }
        if (count > MAX_BULK_BYTES) {
            throw new TooLongFrameException("array of " + count + " elements");
        }
        List<Object> items = new ArrayList<>((int) Math.min(count, 16));
        for (long i = 0; i < count; i++) {
            Object item = value(in);
            if (item == INCOMPLETE) {
                return INCOMPLETE;
            }
            items.add(item);
        }
        return items;
    }

    private static long number(ByteBuf in, int from, int lineEnd) {
        try {
            long value = Ascii.parseLong(in, from);
            int digits = lineEnd - from;
            if (digits < 1 || digits > 20 || Long.toString(value).length() != digits) {
                throw new NumberFormatException("bad number");
            }
            return value;
        } catch (NumberFormatException e) {
            throw new CorruptedFrameException("bad RESP number: "
                    + in.toString(from, lineEnd - from, java.nio.charset.StandardCharsets.US_ASCII));
        }
    }

    /** Index of the CR of the CRLF ending the line at the reader index, or -1 if it has not all arrived. */
    private static int lineEnd(ByteBuf in) {
        int from = in.readerIndex();
        int end = in.writerIndex();
        int cr = in.indexOf(from, end, (byte) '\r');
        if (cr < 0 || cr + 1 >= end) {
            if (end - from > MAX_LINE_BYTES) {
                throw new TooLongFrameException("RESP line longer than " + MAX_LINE_BYTES + " bytes");
            }
            return -1;
        }
        if (in.getByte(cr + 1) != '\n') {
            throw new CorruptedFrameException("CR without LF in a RESP line");
        }
        return cr;
    }
}
