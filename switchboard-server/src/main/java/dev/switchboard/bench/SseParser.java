package dev.switchboard.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.ByteProcessor;

/**
 * Incremental parser of a {@code text/event-stream} body, following the WHATWG HTML "server-sent events"
 * rules. The body is fed chunk by chunk as it arrives: lines may end in LF, CR or CRLF and a chunk may end
 * anywhere, even between the CR and the LF of one line ending.
 *
 * <ul>
 *   <li>{@code data:} lines are joined with {@code \n}; an empty line dispatches the event, unless it had no data.
 *   <li>{@code id:} sets the last event ID, which carries over to later events; {@code event:} sets the type
 *       of the current event only.
 *   <li>Comment lines ({@code :…}), {@code retry:} (this client never reconnects) and unknown fields are ignored.
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

    private final int maxEventBytes;
    private final Listener listener;
    private final SseEvent event = new SseEvent();
    /** Holds the start of a line whose end has not arrived yet. */
    private final ByteBuf partialLine = Unpooled.buffer(256);
    private boolean afterCr;
    private boolean firstLine = true;

    /** @param maxEventBytes limit on one line and on the data of one event, so a broken stream cannot exhaust memory */
    public SseParser(int maxEventBytes, Listener listener) {
        this.maxEventBytes = maxEventBytes;
        this.listener = listener;
    }

    /** Parses the readable bytes of {@code chunk} and consumes them. */
    public void feed(ByteBuf chunk) {
        while (chunk.isReadable()) {
            int start = chunk.readerIndex();
            if (afterCr) {
                afterCr = false;
                if (chunk.getByte(start) == '\n') {
                    chunk.skipBytes(1);
                    continue;
                }
            }
            int end = chunk.forEachByte(ByteProcessor.FIND_CRLF);
            if (end < 0) {
                append(chunk, start, chunk.writerIndex());
                chunk.readerIndex(chunk.writerIndex());
                return;
            }
            afterCr = chunk.getByte(end) == '\r';
            chunk.readerIndex(end + 1);
            if (partialLine.isReadable()) {
                append(chunk, start, end);
                line(partialLine, partialLine.readerIndex(), partialLine.writerIndex());
                partialLine.clear();
            } else {
                line(chunk, start, end);
            }
        }
    }

    private void append(ByteBuf chunk, int from, int to) {
        if (partialLine.readableBytes() + (to - from) > maxEventBytes) {
            throw new TooLongException(maxEventBytes);
        }
        partialLine.writeBytes(chunk, from, to - from);
    }

    private void line(ByteBuf buf, int from, int to) {
        if (firstLine) {
            firstLine = false;
            if (to - from >= BOM_LENGTH && (buf.getByte(from) & 0xff) == 0xef
                    && (buf.getByte(from + 1) & 0xff) == 0xbb && (buf.getByte(from + 2) & 0xff) == 0xbf) {
                from += BOM_LENGTH;
            }
        }
        if (from == to) {
            dispatch();
            return;
        }
        if (buf.getByte(from) == ':') {
            return;
        }
        int colon = buf.indexOf(from, to, (byte) ':');
        int nameEnd = colon < 0 ? to : colon;
        int valueStart = colon < 0 ? to : colon + 1;
        if (valueStart < to && buf.getByte(valueStart) == ' ') {
            valueStart++;
        }
        if (Ascii.regionMatches(buf, from, nameEnd, "data")) {
            if (event.data.readableBytes() + (to - valueStart) + 1 > maxEventBytes) {
                throw new TooLongException(maxEventBytes);
            }
            event.data.writeBytes(buf, valueStart, to - valueStart).writeByte('\n');
        } else if (Ascii.regionMatches(buf, from, nameEnd, "event")) {
            event.type.clear().writeBytes(buf, valueStart, to - valueStart);
        } else if (Ascii.regionMatches(buf, from, nameEnd, "id") && buf.indexOf(valueStart, to, (byte) 0) < 0) {
            event.id.clear().writeBytes(buf, valueStart, to - valueStart);
        }
    }

    private void dispatch() {
        try {
            if (event.data.isReadable()) {
                event.data.writerIndex(event.data.writerIndex() - 1);
                listener.onEvent(event);
            }
        } finally {
            event.data.clear();
            event.type.clear();
        }
    }
}
