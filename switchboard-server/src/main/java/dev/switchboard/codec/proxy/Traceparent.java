package dev.switchboard.codec.proxy;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;

/**
 * W3C Trace Context ({@code traceparent}: version-traceid-parentid-flags). The proxy is a span of the trace: it keeps
 * a valid incoming trace id and flags and names itself the parent; without one (or with a malformed one) it starts a
 * trace.
 *
 * <p>Made on every proxied request, so written straight into the header's bytes from random longs (no regex, no
 * intermediate strings): ids need to be unique, not unpredictable (W3C Trace Context 3.2.2.3), so
 * {@link ThreadLocalRandom} does.
 */
final class Traceparent {
    /** {@code 00-} + 32 hex + {@code -} + 16 hex + {@code -} + 2 hex. */
    private static final int LENGTH = 55;
    private static final int TRACE_ID = 3;
    private static final int PARENT_ID = 36;
    private static final int FLAGS = 53;
    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    private Traceparent() {}

    /** The header to send upstream for a request that came with {@code incoming} (null: none). */
    static String next(String incoming) {
        byte[] b = new byte[LENGTH];
        b[0] = '0';
        b[1] = '0';
        b[2] = b[TRACE_ID + 32] = b[PARENT_ID + 16] = '-';
        String kept = incoming == null ? null : incoming.trim();
        if (kept != null && isValid(kept)) {
            for (int i = TRACE_ID; i < TRACE_ID + 32; i++) {
                b[i] = (byte) kept.charAt(i);
            }
            b[FLAGS] = (byte) kept.charAt(FLAGS);
            b[FLAGS + 1] = (byte) kept.charAt(FLAGS + 1);
        } else {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            long high;
            long low;
            do {
                high = random.nextLong();
                low = random.nextLong();
            } while ((high | low) == 0);
            hex(high, b, TRACE_ID);
            hex(low, b, TRACE_ID + 16);
            b[FLAGS] = '0';
            b[FLAGS + 1] = '1';
        }
        long span;
        do {
            span = ThreadLocalRandom.current().nextLong();
        } while (span == 0);
        hex(span, b, PARENT_ID);
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    private static void hex(long v, byte[] into, int at) {
        for (int i = 15; i >= 0; i--) {
            into[at + i] = HEX[(int) (v & 0xf)];
            v >>>= 4;
        }
    }

    /** Version 00, lowercase hex fields, and neither id all zeros (W3C Trace Context 3.2.2). */
    private static boolean isValid(String t) {
        if (t.length() != LENGTH || t.charAt(0) != '0' || t.charAt(1) != '0' || t.charAt(2) != '-'
                || t.charAt(TRACE_ID + 32) != '-' || t.charAt(PARENT_ID + 16) != '-') {
            return false;
        }
        return isHex(t, TRACE_ID, TRACE_ID + 32) && isHex(t, PARENT_ID, PARENT_ID + 16)
                && isHex(t, FLAGS, FLAGS + 2);
    }

    /** Lowercase hex in [from, to), not all zeros for an id (the flags may be 00). */
    private static boolean isHex(String t, int from, int to) {
        boolean nonZero = to - from == 2;
        for (int i = from; i < to; i++) {
            char c = t.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
                return false;
            }
            nonZero |= c != '0';
        }
        return nonZero;
    }

    /** The trace id of a header made by {@link #next}. */
    static String traceId(String traceparent) {
        return traceparent.substring(TRACE_ID, TRACE_ID + 32);
    }
}
