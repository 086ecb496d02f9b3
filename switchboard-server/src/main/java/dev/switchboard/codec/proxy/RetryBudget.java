package dev.switchboard.codec.proxy;

/**
 * How many retries a route may add: each request earns {@code ratio} of a retry, and every second earns
 * {@link #FLOOR_PER_SECOND} more, so that a route with little traffic can still retry; a retry spends one. When an
 * upstream fails every request, retries then add at most {@code ratio} to its load instead of multiplying it by the
 * number of attempts (a retry storm). Hand-written because it is a dozen lines; resilience4j's Retry retries one call
 * and knows no budget shared by all of a route's calls.
 */
final class RetryBudget {
    private static final double FLOOR_PER_SECOND = 10;
    private static final double MAX_BALANCE = 100;

    private final double ratio;
    private double balance = FLOOR_PER_SECOND;
    private long earnedAt = System.nanoTime();

    RetryBudget(double ratio) {
        this.ratio = ratio;
    }

    synchronized void requested() {
        balance = Math.min(MAX_BALANCE, balance + ratio);
    }

    synchronized boolean tryRetry() {
        long now = System.nanoTime();
        double seconds = (now - earnedAt) / 1e9;
        if (seconds >= 1) {
            balance = Math.min(MAX_BALANCE, balance + Math.floor(seconds) * FLOOR_PER_SECOND);
            earnedAt = now;
        }
        if (balance < 1) {
            return false;
        }
        balance -= 1;
        return true;
    }
}
