package dev.switchboard.loadtest;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.TooLongFrameException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

/**
 * Decodes what a NATS server sends a core-protocol client: {@code INFO}, {@code MSG}, {@code PING},
 * {@code PONG}, {@code +OK} and {@code -ERR}, into {@link Frame}s. A frame split across reads is decoded once
 * all of it has arrived. Headers ({@code HMSG}) are not asked for, so they are a protocol error.
 */
final class NatsDecoder extends ByteToMessageDecoder {
    private static final int MAX_LINE_BYTES = 64 * 1024;
    private static final int MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

    sealed interface Frame permits Info, Msg, Ping, Pong, Ok, Err {
    }

    record Info(String json) implements Frame {
    }

    /** A message; {@code replyTo} is null when the publisher gave none. */
    record Msg(String subject, String sid, String replyTo, byte[] payload) implements Frame {
    }

    record Ping() implements Frame {
    }

    record Pong() implements Frame {
    }

    record Ok() implements Frame {
    }

    record Err(String message) implements Frame {
    }

    static final Ping PING = new Ping();
    static final Pong PONG = new Pong();
    static final Ok OK = new Ok();

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (in.isReadable()) {
            Frame frame = frame(in);
            if (frame == null) {
                return;
            }
            out.add(frame);
        }
    }

    /** The frame at the reader index, consumed, or null (nothing consumed) if it has not all arrived. */
    private static Frame frame(ByteBuf in) {
        int from = in.readerIndex();
        int end = in.writerIndex();
        int cr = in.indexOf(from, end, (byte) '\r');
        if (cr < 0 || cr + 1 >= end) {
            if (end - from > MAX_LINE_BYTES) {
                throw new TooLongFrameException("NATS line longer than " + MAX_LINE_BYTES + " bytes");
            }
            return null;
        }
        if (in.getByte(cr + 1) != '\n') {
            throw new CorruptedFrameException("CR without LF in a NATS line");
        }
        String line = in.toString(from, cr - from, StandardCharsets.UTF_8);
        int space = indexOfSpace(line);
        String op = (space < 0 ? line : line.substring(0, space)).toUpperCase(Locale.ROOT);
        String args = space < 0 ? "" : line.substring(space + 1).strip();
        Frame frame = switch (op) {
            case "MSG" -> msg(in, cr + 2, args);
            case "PING" -> PING;
            case "PONG" -> PONG;
            case "+OK" -> OK;
            case "-ERR" -> new Err(args);
            case "INFO" -> new Info(args);
            default -> throw new CorruptedFrameException("unexpected NATS line: " + line);
        };
        if (frame != null && !(frame instanceof Msg)) {
            in.readerIndex(cr + 2);
        }
        return frame;
    }

    private static Msg msg(ByteBuf in, int payloadStart, String args) {
        String[] parts = args.split("[ \t]+");
        if (parts.length != 3 && parts.length != 4) {
            throw new CorruptedFrameException("bad MSG arguments: " + args);
        }
        int size;
        try {
            size = Integer.parseInt(parts[parts.length - 1]);
        } catch (NumberFormatException e) {
            throw new CorruptedFrameException("bad MSG size: " + args);
        }
        if (size < 0 || size > MAX_PAYLOAD_BYTES) {
            throw new TooLongFrameException("MSG payload of " + size + " bytes");
        }
        if (in.writerIndex() - payloadStart < size + 2) {
            return null;
        }
        byte[] payload = new byte[size];
        in.getBytes(payloadStart, payload);
        if (in.getByte(payloadStart + size) != '\r' || in.getByte(payloadStart + size + 1) != '\n') {
            throw new CorruptedFrameException("MSG payload not followed by CRLF");
        }
        in.readerIndex(payloadStart + size + 2);
        return new Msg(parts[0], parts[1], parts.length == 4 ? parts[2] : null, payload);
    }

    private static int indexOfSpace(String line) {
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == ' ' || c == '\t') {
                return i;
            }
        }
        return -1;
    }
}
