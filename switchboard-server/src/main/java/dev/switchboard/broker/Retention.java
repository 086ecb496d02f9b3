package dev.switchboard.broker;

import java.time.Duration;

/**
 * How much of a topic's log is kept. A null bound is unlimited. Dropped offsets are reported to readers as a gap.
 */
public record Retention(Long maxMessages, Duration maxAge, Long maxBytes) {
    public static final Retention UNLIMITED = new Retention(null, null, null);
}
