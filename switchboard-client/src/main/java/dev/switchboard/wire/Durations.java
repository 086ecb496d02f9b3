package dev.switchboard.wire;

import java.time.Duration;

/** API durations: a whole number and a unit, {@code 500ms}, {@code 30s}, {@code 2m}, {@code 1h}, {@code 7d}. */
public final class Durations {
    private Durations() {}

    public static Duration parse(String text, String what) {
        if (text != null) {
            int split = 0;
            while (split < text.length() && text.charAt(split) >= '0' && text.charAt(split) <= '9') {
                split++;
            }
            if (split > 0 && split <= 12) {
                long n = Long.parseLong(text.substring(0, split));
                Duration d = switch (text.substring(split)) {
                    case "ms" -> Duration.ofMillis(n);
                    case "s" -> Duration.ofSeconds(n);
                    case "m" -> Duration.ofMinutes(n);
                    case "h" -> Duration.ofHours(n);
                    case "d" -> Duration.ofDays(n);
                    default -> null;
                };
                if (d != null && fitsInMillis(d)) {
                    return d;
                }
            }
        }
        throw new ApiException(ErrorCode.INVALID_DURATION,
                what + " must be a duration like 500ms, 30s, 2m, 1h or 7d, got '" + TopicNames.abbreviate(text) + "'");
    }

    /** Everything downstream (the log's records, retention, timers) works in milliseconds held in a long. */
    private static boolean fitsInMillis(Duration d) {
        try {
            d.toMillis();
            return true;
        } catch (ArithmeticException e) {
            return false;
        }
    }

    /** The shortest exact text for a duration, the inverse of {@link #parse}. */
    public static String format(Duration d) {
        long ms = d.toMillis();
        if (ms % 86_400_000 == 0 && ms > 0) return ms / 86_400_000 + "d";
        if (ms % 3_600_000 == 0 && ms > 0) return ms / 3_600_000 + "h";
        if (ms % 60_000 == 0 && ms > 0) return ms / 60_000 + "m";
        if (ms % 1000 == 0) return ms / 1000 + "s";
        return ms + "ms";
    }
}
