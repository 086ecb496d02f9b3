package dev.switchboard.codec.nats;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.ByteProcessor;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

/**
 * Reads the client side of the NATS core protocol: a control line ending in CRLF, then for PUB and HPUB a payload of
 * the announced size and a CRLF. Payloads are bytes as sent (binary-safe: only their size delimits them). Limits: a
 * control line longer than {@code maxControlLine} and a payload over {@code maxPayload} are refused before they are
 * buffered, so a client cannot make the server hold more than one control line and one payload of its connection.
 *
 * <p>After a {@link NatsOp.Malformed} the decoder reads nothing more: the session closes the connection, as
 * nats-server does on a parser error.
 */
public final class NatsDecoder extends ByteToMessageDecoder {
    static final String UNKNOWN_OPERATION = "Unknown Protocol Operation";
    static final String MAX_PAYLOAD = "Maximum Payload Violation";
    static final String MAX_CONTROL_LINE = "Maximum Control Line Exceeded";

    private final int maxControlLine;
    private final int maxPayload;
    /** The PUB or HPUB whose payload is awaited, or null while reading a control line. */
    private PendingPub pending;
    private boolean failed;

    private record PendingPub(String subject, String replyTo, int headerBytes, int totalBytes) {}

    public NatsDecoder(int maxControlLine, int maxPayload) {
        this.maxControlLine = maxControlLine;
        this.maxPayload = maxPayload;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (!failed && in.isReadable()) {
            boolean readingLine = pending == null;
            NatsOp op = readingLine ? controlLine(in) : payload(in);
            if (op == null) {
                if (readingLine && pending != null) {
                    continue; // a PUB's line: its payload follows
                }
                return; // more input needed
            }
            if (op instanceof NatsOp.Malformed) {
                failed = true;
            }
            out.add(op);
        }
        if (failed) {
            in.skipBytes(in.readableBytes());
        }
    }

    private NatsOp controlLine(ByteBuf in) {
        int scanned = Math.min(in.readableBytes(), maxControlLine + 2);
        int lf = in.forEachByte(in.readerIndex(), scanned, ByteProcessor.FIND_LF);
        if (lf < 0) {
            return scanned > maxControlLine + 1 ? new NatsOp.Malformed(MAX_CONTROL_LINE) : null;
        }
        int length = lf - in.readerIndex();
        // A bare LF ends a line too, as in nats-server: telnet users and some clients send it.
        int end = length > 0 && in.getByte(lf - 1) == '\r' ? length - 1 : length;
        if (end > maxControlLine) {
            return new NatsOp.Malformed(MAX_CONTROL_LINE);
        }
        String line = in.toString(in.readerIndex(), end, StandardCharsets.UTF_8);
        in.skipBytes(length + 1);
        return parse(line);
    }

    private NatsOp parse(String line) {
        String trimmed = line.strip();
        int space = indexOfBlank(trimmed);
        String verb = (space < 0 ? trimmed : trimmed.substring(0, space)).toUpperCase(Locale.ROOT);
        String rest = space < 0 ? "" : trimmed.substring(space + 1).strip();
        String[] args = rest.isEmpty() ? new String[0] : rest.split("[ \t]+");
        return switch (verb) {
            case "PING" -> args.length == 0 ? NatsOp.PING : malformed("PING takes no arguments");
            case "PONG" -> args.length == 0 ? NatsOp.PONG : malformed("PONG takes no arguments");
            case "CONNECT" -> rest.isEmpty() ? malformed("CONNECT needs its JSON options") : new NatsOp.Connect(rest);
            case "PUB" -> pub(args, false);
            case "HPUB" -> pub(args, true);
            case "SUB" -> switch (args.length) {
                case 2 -> new NatsOp.Sub(args[0], null, args[1]);
                case 3 -> new NatsOp.Sub(args[0], args[1], args[2]);
                default -> malformed("SUB takes a subject, an optional queue group and a sid");
            };
            case "UNSUB" -> unsub(args);
            default -> new NatsOp.Malformed(UNKNOWN_OPERATION);
        };
    }

    private NatsOp pub(String[] args, boolean headers) {
        int sizes = headers ? 2 : 1;
        if (args.length != sizes + 1 && args.length != sizes + 2) {
            return malformed((headers ? "HPUB takes a subject, an optional reply subject, a header size and a total"
                    + " size" : "PUB takes a subject, an optional reply subject and a size"));
        }
        String replyTo = args.length == sizes + 2 ? args[1] : null;
        long total = size(args[args.length - 1]);
        long headerBytes = headers ? size(args[args.length - 2]) : 0;
        if (total < 0 || headerBytes < 0 || headerBytes > total) {
            return malformed("bad or missing size");
        }
        if (total > maxPayload) {
            return new NatsOp.Malformed(MAX_PAYLOAD);
        }
        pending = new PendingPub(args[0], replyTo, headers ? (int) headerBytes : -1, (int) total);
        return null;
    }

    private NatsOp payload(ByteBuf in) {
        PendingPub p = pending;
        if (in.readableBytes() < p.totalBytes() + 2) {
            return null;
        }
        byte[] headers = null;
        if (p.headerBytes() >= 0) {
            headers = new byte[p.headerBytes()];
            in.readBytes(headers);
        }
        byte[] payload = new byte[p.totalBytes() - Math.max(0, p.headerBytes())];
        in.readBytes(payload);
        if (in.readByte() != '\r' || in.readByte() != '\n') {
            return new NatsOp.Malformed(UNKNOWN_OPERATION); // what nats-server answers to a payload longer than said
        }
        pending = null;
        return new NatsOp.Pub(p.subject(), p.replyTo(), headers, payload);
    }

    private NatsOp unsub(String[] args) {
        if (args.length == 1) {
            return new NatsOp.Unsub(args[0], 0);
        }
        long max = args.length == 2 ? size(args[1]) : -1;
        return max < 0 ? malformed("UNSUB takes a sid and an optional count") : new NatsOp.Unsub(args[0], max);
    }

    /** A non-negative decimal that fits an int, else -1. */
    private static long size(String s) {
        if (s.isEmpty() || s.length() > 10) {
            return -1;
        }
        long v = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v > Integer.MAX_VALUE ? -1 : v;
    }

    private static int indexOfBlank(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == ' ' || s.charAt(i) == '\t') {
                return i;
            }
        }
        return -1;
    }

    private static NatsOp malformed(String why) {
        return new NatsOp.Malformed("Parser Error: " + why);
    }
}
