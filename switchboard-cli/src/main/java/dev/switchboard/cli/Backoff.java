package dev.switchboard.cli;

/** Retry delays that double from a first delay up to a ceiling, and start again from the first after a success. */
final class Backoff {
    private final long firstMillis;
    private final long maxMillis;
    private long next;

    Backoff(long firstMillis, long maxMillis) {
        this.firstMillis = firstMillis;
        this.maxMillis = maxMillis;
        this.next = firstMillis;
    }

    /** The delay to wait now; the one after it doubles, up to the ceiling. */
    long next() {
        long d = next;
        next = Math.min(next * 2, maxMillis);
        return d;
    }

    void reset() {
        next = firstMillis;
    }
}
