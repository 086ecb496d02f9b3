package dev.switchboard.client;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Retry delays that double from a first delay up to a ceiling, each drawn at random between half and all of it
 * ("equal jitter"), so that clients cut off together do not come back together. Not thread-safe: one per loop.
 */
final class Backoff {
    private final long minMillis;
    private final long maxMillis;
    private long ceiling;

    Backoff(Duration min, Duration max) {
        this.minMillis = min.toMillis();
        this.maxMillis = max.toMillis();
        this.ceiling = minMillis;
    }

    Duration next() {
        long c = ceiling;
        ceiling = Math.min(ceiling * 2, maxMillis);
        return Duration.ofMillis(c / 2 + ThreadLocalRandom.current().nextLong(c - c / 2 + 1));
    }

    void reset() {
        ceiling = minMillis;
    }
}
