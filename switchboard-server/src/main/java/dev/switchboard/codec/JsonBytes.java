package dev.switchboard.codec;

import dev.switchboard.wire.Payloads;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.concurrent.FastThreadLocal;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Compact JSON written as UTF-8 into a reusable array per thread, then copied once into its destination: the
 * answers built per message or per wake (a poll's answer, an envelope), where Jackson's generator, its context
 * objects and stream wrapper were most of the garbage. Strings are escaped exactly as Jackson's {@code
 * UTF8JsonGenerator} escapes them by default (short escapes for {@code " \ \b \t \n \f \r}, {@code \}{@code u00XX}
 * for other controls, surrogates as {@code \}{@code uXXXX}, upper-case hex), so the bytes are the same as before
 * (PollAnswerBytesTest compares them).
 */
public final class JsonBytes {
    /** A larger array is dropped after use, so one large answer does not stay held by the thread. */
    private static final int KEEP = 64 * 1024;
    private static final FastThreadLocal<JsonBytes> SCRATCH = new FastThreadLocal<>() {
        @Override
        protected JsonBytes initialValue() {
            return new JsonBytes();
        }
    };
    private static final byte[] HEX = "0123456789ABCDEF".getBytes(StandardCharsets.US_ASCII);
    /** Per ASCII char: 0 as is, -1 as {@code \}{@code u00XX}, else the letter after a backslash. */
    private static final byte[] ESCAPES = new byte[128];
    private static final byte[] TRUE = ascii("true");
    private static final byte[] FALSE = ascii("false");

    static {
        Arrays.fill(ESCAPES, 0, 0x20, (byte) -1);
        ESCAPES['"'] = '"';
        ESCAPES['\\'] = '\\';
        ESCAPES['\b'] = 'b';
        ESCAPES['\t'] = 't';
        ESCAPES['\n'] = 'n';
        ESCAPES['\f'] = 'f';
        ESCAPES['\r'] = 'r';
    }

    private byte[] bytes = new byte[1024];
    private int size;

    private JsonBytes() {}

    /** This thread's writer, empty. Not reentrant: finish with {@link #copyTo} or {@link #toArray} before the next. */
    public static JsonBytes scratch() {
        JsonBytes w = SCRATCH.get();
        w.size = 0;
        return w;
    }

    /** An ASCII constant, as bytes for {@link #raw(byte[])}. */
    public static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** The bytes written, into a buffer of their size. */
    public ByteBuf copyTo(ByteBufAllocator alloc) {
        ByteBuf out = alloc.buffer(size).writeBytes(bytes, 0, size);
        trim();
        return out;
    }

    public byte[] toArray() {
        byte[] out = Arrays.copyOf(bytes, size);
        trim();
        return out;
    }

    private void trim() {
        if (bytes.length > KEEP) {
            bytes = new byte[1024];
        }
    }

    public JsonBytes raw(byte b) {
        room(1);
        bytes[size++] = b;
        return this;
    }

    /** Bytes as they are: pre-encoded parts, or a JSON value validated when it was accepted. */
    public JsonBytes raw(byte[] b) {
        room(b.length);
        System.arraycopy(b, 0, bytes, size, b.length);
        size += b.length;
        return this;
    }

    public JsonBytes number(long v) {
        if (v == Long.MIN_VALUE) {
            return raw(ascii(Long.toString(v)));
        }
        room(20);
        if (v < 0) {
            bytes[size++] = '-';
            v = -v;
        }
        int digits = 1;
        for (long rest = v / 10; rest != 0; rest /= 10) {
            digits++;
        }
        for (int i = size + digits - 1; i >= size; i--) {
            bytes[i] = (byte) ('0' + v % 10);
            v /= 10;
        }
        size += digits;
        return this;
    }

    public JsonBytes bool(boolean b) {
        return raw(b ? TRUE : FALSE);
    }

    /** A string literal, quoted and escaped. */
    public JsonBytes string(String s) {
        room(2 + s.length() * 6); // at most \\uXXXX per char
        byte[] b = bytes;
        int at = size;
        b[at++] = '"';
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                byte escape = ESCAPES[c];
                if (escape == 0) {
                    b[at++] = (byte) c;
                } else if (escape > 0) {
                    b[at++] = '\\';
                    b[at++] = escape;
                } else {
                    at = unicodeEscape(b, at, c);
                }
            } else if (c < 0x800) {
                b[at++] = (byte) (0xC0 | (c >> 6));
                b[at++] = (byte) (0x80 | (c & 0x3F));
            } else if (Character.isSurrogate(c)) {
                at = unicodeEscape(b, at, c); // as Jackson: each half escaped, not joined into four bytes
            } else {
                b[at++] = (byte) (0xE0 | (c >> 12));
                b[at++] = (byte) (0x80 | ((c >> 6) & 0x3F));
                b[at++] = (byte) (0x80 | (c & 0x3F));
            }
        }
        b[at++] = '"';
        size = at;
        return this;
    }

    /** A time as the API writes it ({@link Payloads#formatTime}), quoted, without making its string. */
    public JsonBytes time(long millis) {
        room(2 + Payloads.TIME_LENGTH);
        bytes[size++] = '"';
        size = Payloads.writeTime(millis, bytes, size);
        bytes[size++] = '"';
        return this;
    }

    /** Valid UTF-8 text as a string literal: copied as it is when nothing in it needs escaping (ASCII, most text). */
    public JsonBytes utf8String(byte[] text) {
        for (byte c : text) {
            if (c < 0 || ESCAPES[c] != 0) {
                return string(new String(text, StandardCharsets.UTF_8));
            }
        }
        return raw((byte) '"').raw(text).raw((byte) '"');
    }

    private static int unicodeEscape(byte[] b, int at, char c) {
        b[at++] = '\\';
        b[at++] = 'u';
        b[at++] = HEX[c >> 12];
        b[at++] = HEX[(c >> 8) & 0xF];
        b[at++] = HEX[(c >> 4) & 0xF];
        b[at++] = HEX[c & 0xF];
        return at;
    }

    private void room(int more) {
        if (size + more > bytes.length) {
            bytes = Arrays.copyOf(bytes, Math.max(size + more, bytes.length * 2));
        }
    }
}
