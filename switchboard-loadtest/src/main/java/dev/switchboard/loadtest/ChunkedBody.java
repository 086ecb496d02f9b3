package dev.switchboard.loadtest;

import io.netty.buffer.ByteBuf;

/**
 * The body of an HTTP/1.1 response with {@code Transfer-Encoding: chunked} (RFC 9112 section 7.1), decoded from the
 * raw bytes as they arrive: each chunk's data goes to the sink as a slice of what was read, with no object per chunk.
 * The load tool reads every SSE stream this way once Netty's codec has parsed the response head, because Netty's
 * decoder makes an {@code HttpContent} per chunk, a cost paid for every event of every stream. Chunk extensions and
 * trailers are skipped; a malformed size line is an {@link IllegalStateException}.
 */
final class ChunkedBody {
    /** Chunk sizes are hex digits: more than 7 of them would be a chunk of 256 MB or more. */
    private static final int MAX_SIZE_DIGITS = 7;

    /** Receives the body. */
    interface Sink {
        /** {@code buf[from, from + length)} is the next part of the body. */
        void data(ByteBuf buf, int from, int length);

        /** The last chunk arrived: the body is complete. */
        void end();
    }

    private enum State { SIZE, SIZE_LINE, DATA, DATA_END, TRAILER, DONE }

    private final Sink sink;
    private State state = State.SIZE;
    private int digits;
    private int remaining;
    /** Bytes of the trailer line being skipped; an empty line ends the trailer. */
    private int trailerLine;

    ChunkedBody(Sink sink) {
        this.sink = sink;
    }

    /** Decodes what {@code in} holds, leaving it read. */
    void feed(ByteBuf in) {
        while (in.isReadable() && state != State.DONE) {
            switch (state) {
                case SIZE -> size(in.readByte());
                case SIZE_LINE -> {
                    if (in.readByte() == '\n') {
                        endOfSizeLine();
                    }
                }
                case DATA -> {
                    int length = Math.min(remaining, in.readableBytes());
                    sink.data(in, in.readerIndex(), length);
                    in.skipBytes(length);
                    remaining -= length;
                    if (remaining == 0) {
                        state = State.DATA_END;
                    }
                }
                case DATA_END -> {
                    byte b = in.readByte();
                    if (b == '\n') {
                        state = State.SIZE;
                    } else if (b != '\r') {
                        throw new IllegalStateException("chunk data not followed by CRLF");
                    }
                }
                case TRAILER -> trailer(in.readByte());
                default -> throw new IllegalStateException(state.name());
            }
        }
    }

    private void size(byte b) {
        int digit = Character.digit(b, 16);
        if (digit >= 0) {
            if (++digits > MAX_SIZE_DIGITS) {
                throw new IllegalStateException("chunk size of more than " + MAX_SIZE_DIGITS + " hex digits");
            }
            remaining = remaining * 16 + digit;
        } else if (b == '\n') {
            endOfSizeLine();
        } else if (digits == 0) {
            throw new IllegalStateException("chunk size line without a size");
        } else {
            state = State.SIZE_LINE; // CR, or an extension
        }
    }

    private void endOfSizeLine() {
        if (digits == 0) {
            throw new IllegalStateException("chunk size line without a size");
        }
        digits = 0;
        state = remaining == 0 ? State.TRAILER : State.DATA;
    }

    private void trailer(byte b) {
        if (b == '\n') {
            if (trailerLine == 0) {
                state = State.DONE;
                sink.end();
            }
            trailerLine = 0;
        } else if (b != '\r') {
            trailerLine++;
        }
    }
}
