package dev.switchboard.log;

/**
 * The payload bytes held by every topic's {@link TailCache} together, so that many active topics cannot hold more
 * than the configured total. Only the log writer changes it; any thread may read it (metrics).
 */
public final class TailBudget {
    private final long limit;
    private volatile long used;

    public TailBudget(long limit) {
        this.limit = limit;
    }

    public long used() {
        return used;
    }

    boolean exceeded() {
        return used > limit;
    }

    @SuppressWarnings("NonAtomicOperationOnVolatileField") // single writer
    void add(long bytes) {
        used += bytes;
    }
}
