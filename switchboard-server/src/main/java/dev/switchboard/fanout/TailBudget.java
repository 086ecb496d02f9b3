package dev.switchboard.fanout;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The payload bytes held by every topic's {@link TailCache} together, so that many active topics cannot hold more
 * than the configured total. Caches grow on the engine's thread and are released from any thread.
 */
public final class TailBudget {
    private final long limit;
    private final AtomicLong used = new AtomicLong();

    public TailBudget(long limit) {
        this.limit = limit;
    }

    public long used() {
        return used.get();
    }

    boolean exceeded() {
        return used.get() > limit;
    }

    void add(long bytes) {
        used.addAndGet(bytes);
    }
}
