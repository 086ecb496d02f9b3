package dev.switchboard.fanout;

import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import dev.switchboard.wire.TopicNames;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Collection;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The position of a stream over many topics as one opaque string (docs/api.md, "Streams over many topics"): every
 * topic's next offset, so a reader resumes all of them at once and the server keeps no session. It is the base64url
 * (no padding) of a version byte and, per topic in name order, the length of the prefix shared with the previous
 * name, the rest of the name and the next offset, each number an unsigned LEB128 varint. Names under one pattern
 * share most of their prefix, so they cost little more than their offsets.
 *
 * <p>A topic whose next offset is 1 is left out: a topic absent from a cursor is read from its first offset, which is
 * also what a pattern's topic created after the cursor was issued needs. A stream follows a topic only while the
 * cursor of everything it follows stays within {@link #MAX_CHARS} at the largest offset, so it stays bounded (and
 * small enough for a {@code Last-Event-ID} header) however many topics a pattern matches.
 */
public final class StreamCursor {
    /** Longest cursor a stream issues or accepts. */
    public static final int MAX_CHARS = 4096;
    private static final int VERSION = 1;
    private static final int MAX_OFFSET_BYTES = 9; // an offset below 2^63
    private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();

    private StreamCursor() {}

    /** @param next each topic's next offset */
    public static String encode(SortedMap<String, Long> next) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(16 + next.size() * 8);
        out.write(VERSION);
        String previous = "";
        for (Map.Entry<String, Long> e : next.entrySet()) {
            if (e.getValue() <= 1) {
                continue;
            }
            String name = e.getKey();
            int shared = sharedPrefix(previous, name);
            varint(out, shared);
            varint(out, name.length() - shared);
            out.writeBytes(name.substring(shared).getBytes(StandardCharsets.US_ASCII));
            varint(out, e.getValue());
            previous = name;
        }
        return ENCODER.encodeToString(out.toByteArray());
    }

    /** Each topic's next offset; a malformed cursor is {@code 400 invalid_from}. */
    public static SortedMap<String, Long> decode(String cursor) {
        if (cursor.length() > MAX_CHARS) {
            throw invalid("is longer than " + MAX_CHARS + " characters");
        }
        byte[] bytes;
        try {
            bytes = Base64.getUrlDecoder().decode(cursor);
        } catch (IllegalArgumentException e) {
            throw invalid("is not base64url");
        }
        Reader in = new Reader(bytes);
        if (in.remaining() == 0 || in.next() != VERSION) {
            throw invalid("has an unknown version");
        }
        SortedMap<String, Long> next = new TreeMap<>();
        String previous = "";
        while (in.remaining() > 0) {
            long shared = in.varint();
            long suffix = in.varint();
            if (shared > previous.length() || suffix > in.remaining()) {
                throw invalid("is truncated");
            }
            String name = previous.substring(0, (int) shared)
                    + new String(bytes, in.position, (int) suffix, StandardCharsets.US_ASCII);
            in.position += (int) suffix;
            long offset = in.varint();
            if (!TopicNames.isValid(name) || name.compareTo(previous) <= 0 || offset < 1) {
                throw invalid("names a topic badly");
            }
            next.put(name, offset);
            previous = name;
        }
        return next;
    }

    /** Whether a cursor over these topics stays within {@link #MAX_CHARS} whatever their offsets become. */
    public static boolean fits(Collection<String> topics) {
        long bytes = 1;
        String previous = "";
        for (String name : new TreeSet<>(topics)) {
            int shared = sharedPrefix(previous, name);
            bytes += varintLength(shared) + varintLength(name.length() - shared) + name.length() - shared
                    + MAX_OFFSET_BYTES;
            previous = name;
        }
        return (bytes * 4 + 2) / 3 <= MAX_CHARS;
    }

    private static ApiException invalid(String why) {
        return new ApiException(ErrorCode.INVALID_FROM, "the stream's cursor " + why);
    }

    private static int sharedPrefix(String a, String b) {
        int n = Math.min(a.length(), b.length());
        int i = 0;
        while (i < n && a.charAt(i) == b.charAt(i)) {
            i++;
        }
        return i;
    }

    private static void varint(ByteArrayOutputStream out, long value) {
        while ((value & ~0x7FL) != 0) {
            out.write((int) (value & 0x7F) | 0x80);
            value >>>= 7;
        }
        out.write((int) value);
    }

    private static int varintLength(long value) {
        int n = 1;
        while ((value & ~0x7FL) != 0) {
            value >>>= 7;
            n++;
        }
        return n;
    }

    private static final class Reader {
        private final byte[] bytes;
        private int position;

        Reader(byte[] bytes) {
            this.bytes = bytes;
        }

        int remaining() {
            return bytes.length - position;
        }

        int next() {
            return bytes[position++] & 0xFF;
        }

        /** An unsigned varint below 2^63. */
        long varint() {
            long value = 0;
            for (int shift = 0; shift < 63; shift += 7) {
                if (remaining() == 0) {
                    throw invalid("is truncated");
                }
                int b = next();
                value |= (long) (b & 0x7F) << shift;
                if ((b & 0x80) == 0) {
                    return value;
                }
            }
            throw invalid("holds a number too large");
        }
    }
}
