package dev.switchboard.wire;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Incremental parser of a {@code text/event-stream} body, following the WHATWG HTML "server-sent events"
 * rules: the client side of what the server's SSE encoder writes, used by the CLI ({@code sub --via sse},
 * {@code jobs watch}), the load tool and Java clients. The body is fed chunk by chunk as it arrives: lines may end in LF, CR or
 * CRLF and a chunk may end anywhere, even between the CR and the LF of one line ending or inside a UTF-8
 * character (fields are decoded only when read).
 *
 * <ul>
 *   <li>{@code data:} lines are joined with {@code \n}; an empty line dispatches the event, unless it had no data.
 *   <li>{@code id:} sets the last event ID, which carries over to later events; {@code event:} sets the type
 *       of the current event only.
 *   <li>Comment lines ({@code :…}), {@code retry:} (each caller picks its own reconnect delays) and unknown
 *       fields are ignored.
 *   <li>An event cut off by the end of the stream is dropped, as the standard says.
 * </ul>
 *
 * One parser per stream, used from one thread.
 */
public final class SseParser {

    /** Receives each complete event. */
    public interface Listener {
        void onEvent(SseEvent event);
    }

    /** A line, or the data of one event, is longer than the parser's limit. */
    public static final class TooLongException extends RuntimeException {
        TooLongException(int limit) {
            super("server-sent event longer than " + limit + " bytes");
        }
    }

    private static final int BOM_LENGTH = 3;
    /** Reads 8 bytes of a chunk as one long, so line ends are searched a word at a time (the load tool's hot loop). */
    private static final VarHandle WORDS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long ONES = 0x0101010101010101L;
    private static final long HIGH_BITS = 0x8080808080808080L;
    private static final long LF_BYTES = '\n' * ONES;
    private static final long CR_BYTES = '\r' * ONES;
    private static final byte[] DATA = {'d', 'a', 't', 'a'};
    private static final byte[] EVENT = {'e', 'v', 'e', 'n', 't'};
    private static final byte[] ID = {'i', 'd'};

    private final int maxEventBytes;
    private final Listener listener;
    private final SseEvent event = new SseEvent();
    /** Holds the start of a line whose end has not arrived yet. */
    private final SseEvent.Bytes partialLine = new SseEvent.Bytes(256);
    private boolean afterCr;
    private boolean firstLine = true;

    /** @param maxEventBytes limit on one line and on the data of one event, so a broken stream cannot exhaust memory */
    public SseParser(int maxEventBytes, Listener listener) {
        this.maxEventBytes = maxEventBytes;
        this.listener = listener;
    }

    /** Parses {@code chunk[offset, offset + length)}. */
    public void feed(byte[] chunk, int offset, int length) {
        int i = offset;
        int end = offset + length;
        while (i < end) {
            if (afterCr) {
                afterCr = false;
                if (chunk[i] == '\n') {
                    i++;
                    continue;
                }
            }
            int lineEnd = lineEnd(chunk, i, end);
            if (lineEnd == end) {
                append(chunk, i, end);
                return;
            }
            afterCr = chunk[lineEnd] == '\r';
            if (partialLine.length > 0) {
                append(chunk, i, lineEnd);
                line(partialLine.array, 0, partialLine.length);
                partialLine.clear();
            } else {
                line(chunk, i, lineEnd);
            }
            i = lineEnd + 1;
        }
    }

    /** Index of the first LF or CR in {@code chunk[from, end)}, or {@code end}. */
    private static int lineEnd(byte[] chunk, int from, int end) {
        int i = from;
        for (; i + Long.BYTES <= end; i += Long.BYTES) {
            long word = (long) WORDS.get(chunk, i);
            long found = zeroBytes(word ^ LF_BYTES) | zeroBytes(word ^ CR_BYTES);
            if (found != 0) {
                return i + (Long.numberOfTrailingZeros(found) >>> 3);
            }
        }
        while (i < end && chunk[i] != '\n' && chunk[i] != '\r') {
            i++;
        }
        return i;
    }

    /**
     * The high bit of each zero byte of {@code word} set (and possibly of bytes above the first zero, by the
     * subtraction's borrow): the lowest bit set always marks the first zero byte.
     */
    private static long zeroBytes(long word) {
        return (word - ONES) & ~word & HIGH_BITS;
    }

    public void feed(byte[] chunk) {
        feed(chunk, 0, chunk.length);
    }

    private void append(byte[] chunk, int from, int to) {
        if (partialLine.length + (to - from) > maxEventBytes) {
            throw new TooLongException(maxEventBytes);
        }
        partialLine.append(chunk, from, to - from);
    }

    private void line(byte[] buf, int from, int to) {
        if (firstLine) {
            firstLine = false;
            if (to - from >= BOM_LENGTH && (buf[from] & 0xff) == 0xef && (buf[from + 1] & 0xff) == 0xbb
                    && (buf[from + 2] & 0xff) == 0xbf) {
                from += BOM_LENGTH;
            }
        }
        if (from == to) {
            dispatch();
            return;
        }
        if (buf[from] == ':') {
            return;
        }
        int value;
        if ((value = valueOf(buf, from, to, DATA)) >= 0) {
            if (event.data.length + (to - value) + 1 > maxEventBytes) {
                throw new TooLongException(maxEventBytes);
            }
            event.data.append(buf, value, to - value);
            event.data.append((byte) '\n');
        } else if ((value = valueOf(buf, from, to, EVENT)) >= 0) {
            event.type.clear();
            event.type.append(buf, value, to - value);
        } else if ((value = valueOf(buf, from, to, ID)) >= 0 && !containsNul(buf, value, to)) {
            event.id.clear();
            event.id.append(buf, value, to - value);
        }
    }

    /**
     * Where the value of line {@code buf[from, to)} starts if its field is {@code name}, else -1. The field is what
     * precedes the line's first colon (the whole line without one), and one space after the colon is not part of
     * the value. Comparing the name first and then looking for the colon right after it gives the same answer as
     * searching for the colon (no field name kept here contains one) and costs a compare per byte of the name.
     */
    private static int valueOf(byte[] buf, int from, int to, byte[] name) {
        int at = from + name.length;
        if (at > to) {
            return -1;
        }
        for (int i = 0; i < name.length; i++) {
            if (buf[from + i] != name[i]) {
                return -1;
            }
        }
        if (at == to) {
            return to;
        }
        if (buf[at] != ':') {
            return -1;
        }
        at++;
        return at < to && buf[at] == ' ' ? at + 1 : at;
    }

    private static boolean containsNul(byte[] buf, int from, int to) {
        for (int i = from; i < to; i++) {
            if (buf[i] == 0) {
                return true;
            }
        }
        return false;
    }

    private void dispatch() {
        try {
            if (event.data.length > 0) {
                event.data.length--; // the last line's '\n'
                listener.onEvent(event);
            }
        } finally {
            event.data.clear();
            event.type.clear();
        }
    }
}
