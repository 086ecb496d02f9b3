package dev.switchboard.loadtest;

import io.netty.buffer.ByteBuf;

/**
 * Reads ASCII fields straight from buffers, without decoding strings or building JSON trees: the SSE parser
 * matches field names with it, and the load tool finds the few fields it needs in every delivered message.
 */
public final class Ascii {
    /** Digits that cannot overflow a {@code long}: the division that checks for it is left for longer numbers. */
    private static final int SAFE_DIGITS = 18;
    private Ascii() {
    }

    /** Whether {@code buf[from, to)} holds exactly {@code text}. */
    public static boolean regionMatches(ByteBuf buf, int from, int to, String text) {
        if (to - from != text.length()) {
            return false;
        }
        for (int i = 0; i < text.length(); i++) {
            if (buf.getByte(from + i) != text.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** Index of the first occurrence of {@code text} in {@code buf[from, to)}, or -1. */
    public static int indexOf(ByteBuf buf, int from, int to, String text) {
        byte first = (byte) text.charAt(0);
        int last = to - text.length();
        for (int i = from; i <= last; i++) {
            i = buf.indexOf(i, last + 1, first);
            if (i < 0) {
                return -1;
            }
            if (regionMatches(buf, i, i + text.length(), text)) {
                return i;
            }
        }
        return -1;
    }

    /**
     * The decimal number (optionally negative) that starts at {@code index} and ends at the first non-digit.
     *
     * @throws NumberFormatException if there is no digit at {@code index}
     */
    public static long parseLong(ByteBuf buf, int index) {
        int end = buf.writerIndex();
        boolean negative = index < end && buf.getByte(index) == '-';
        int digitsStart = negative ? index + 1 : index;
        long value = 0;
        int i = digitsStart;
        for (int digit; i < end && (digit = digit(buf.getByte(i))) >= 0; i++) {
            value = appendDigit(value, digit, i - digitsStart, index);
        }
        return signed(value, negative, i - digitsStart, index);
    }

    /**
     * The decimal number (optionally negative) that starts at {@code buf[from]} and ends at the first non-digit or
     * at {@code to}: for fields read straight from an SSE parser's arrays, with no buffer wrapped around them.
     *
     * @throws NumberFormatException if there is no digit at {@code from}
     */
    public static long parseLong(byte[] buf, int from, int to) {
        boolean negative = from < to && buf[from] == '-';
        int digitsStart = negative ? from + 1 : from;
        long value = 0;
        int i = digitsStart;
        for (int digit; i < to && (digit = digit(buf[i])) >= 0; i++) {
            value = appendDigit(value, digit, i - digitsStart, from);
        }
        return signed(value, negative, i - digitsStart, from);
    }

    /** The value of a decimal digit, or -1 for any other byte. */
    private static int digit(byte b) {
        return b >= '0' && b <= '9' ? b - '0' : -1;
    }

    /** {@code value * 10 + digit}, refused past a long; the check's division is left out where no overflow can be. */
    private static long appendDigit(long value, int digit, int digitsBefore, int index) {
        if (digitsBefore >= SAFE_DIGITS && value > (Long.MAX_VALUE - digit) / 10) {
            throw new NumberFormatException("number too large at index " + index);
        }
        return value * 10 + digit;
    }

    private static long signed(long value, boolean negative, int digits, int index) {
        if (digits == 0) {
            throw new NumberFormatException("no number at index " + index);
        }
        return negative ? -value : value;
    }

    /** Index of the first {@code value} in {@code buf[from, to)}, or -1. */
    public static int indexOf(byte[] buf, int from, int to, byte value) {
        for (int i = from; i < to; i++) {
            if (buf[i] == value) {
                return i;
            }
        }
        return -1;
    }
}
