package dev.switchboard.codec.proxy;

import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/**
 * W3C Trace Context ({@code traceparent}: version-traceid-parentid-flags). The proxy is a span of the trace: it keeps
 * a valid incoming trace id and flags and names itself the parent; without one (or with a malformed one) it starts a
 * trace.
 */
final class Traceparent {
    private static final Pattern VALID = Pattern.compile("00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}");
    private static final String ZERO_TRACE = "0".repeat(32);
    private static final String ZERO_SPAN = "0".repeat(16);

    private Traceparent() {}

    /** The header to send upstream for a request that came with {@code incoming} (null: none). */
    static String next(String incoming) {
        String span = randomHex(8);
        if (incoming != null) {
            String t = incoming.trim();
            if (VALID.matcher(t).matches() && !t.substring(3, 35).equals(ZERO_TRACE)
                    && !t.substring(36, 52).equals(ZERO_SPAN)) {
                return "00-" + t.substring(3, 35) + "-" + span + "-" + t.substring(53, 55);
            }
        }
        return "00-" + randomHex(16) + "-" + span + "-01";
    }

    /** The trace id of a header made by {@link #next}. */
    static String traceId(String traceparent) {
        return traceparent.substring(3, 35);
    }

    private static String randomHex(int bytes) {
        byte[] b = new byte[bytes];
        do {
            ThreadLocalRandom.current().nextBytes(b);
        } while (isZero(b));
        return HexFormat.of().formatHex(b);
    }

    private static boolean isZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }
}
