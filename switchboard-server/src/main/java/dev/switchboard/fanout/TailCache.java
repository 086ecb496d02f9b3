package dev.switchboard.fanout;

import dev.switchboard.broker.Message;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The newest messages of one topic, kept in memory so that live subscribers and long polls are served without
 * touching the store. It always holds a contiguous run of offsets ending at the newest, so a reader that finds
 * offset N here finds every offset after it too.
 *
 * <p>Threads: the engine's thread calls {@link #add}; {@link #clear} may come from any thread (a feed dropped by its
 * last reader), so both hold the cache's lock, uncontended on the hot path; {@link #get} takes no lock.
 */
public final class TailCache {
    private static final int INITIAL_SLOTS = 16;
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(Message[].class);

    private final int maxSlots;
    private final long maxBytes;
    private final TailBudget budget;
    /** Until the first message: a feed that only holds polls or idle subscribers keeps no slots. Never written. */
    private static final Message[] NONE = new Message[1];

    private volatile Message[] ring = NONE;
    private long oldest = 1;
    private long newest = 0;
    private long bytes;
    /** Its feed is gone: late adds (the engine may still be calling) must not hold memory or budget. */
    private boolean closed;

    /**
     * @param maxSlots largest number of cached messages, a power of two
     * @param maxBytes payload bytes above which the oldest entries are evicted
     * @param budget   the total over all topics; while it is exceeded this cache keeps only its newest message
     */
    public TailCache(int maxSlots, long maxBytes, TailBudget budget) {
        if (Integer.bitCount(maxSlots) != 1 || maxSlots < INITIAL_SLOTS) {
            throw new IllegalArgumentException("maxSlots must be a power of two >= " + INITIAL_SLOTS);
        }
        this.maxSlots = maxSlots;
        this.maxBytes = maxBytes;
        this.budget = budget;
    }

    public Message get(long offset) {
        Message[] r = ring;
        Message m = (Message) SLOT.getAcquire(r, (int) (offset & (r.length - 1)));
        return m != null && m.offset() == offset ? m : null;
    }

    /** Appends the next message; offsets must arrive in order with no holes (a hole clears the cache first). */
    public synchronized void add(Message m) {
        if (closed) {
            return;
        }
        if (newest != 0 && m.offset() != newest + 1) {
            clear();
        }
        if (newest == 0 || oldest > newest) {
            oldest = m.offset();
        }
        Message[] r = ring;
        if (r == NONE) {
            r = new Message[INITIAL_SLOTS];
            ring = r;
        }
        long count = newest - oldest + 1;
        if (newest != 0 && count >= r.length) {
            if (r.length < maxSlots && bytes < maxBytes) {
                r = grow(r);
            } else {
                evictOldest(r);
            }
        }
        SLOT.setRelease(r, (int) (m.offset() & (r.length - 1)), m);
        newest = m.offset();
        bytes += m.payload().length;
        budget.add(m.payload().length);
        while ((bytes > maxBytes || budget.exceeded()) && oldest < newest) {
            evictOldest(r);
        }
    }

    /** Payload bytes held. */
    public long bytes() {
        return bytes;
    }

    /** Empties the cache for good: it takes nothing more. */
    public synchronized void close() {
        clear();
        closed = true;
    }

    public synchronized void clear() {
        Message[] r = ring;
        if (r != NONE) {
            for (long o = oldest; o <= newest && o - oldest < r.length; o++) {
                SLOT.setRelease(r, (int) (o & (r.length - 1)), (Message) null);
            }
        }
        if (r.length > INITIAL_SLOTS) {
            ring = NONE;
        }
        oldest = newest + 1;
        budget.add(-bytes);
        bytes = 0;
    }

    private void evictOldest(Message[] r) {
        int slot = (int) (oldest & (r.length - 1));
        Message m = (Message) SLOT.getAcquire(r, slot);
        if (m != null && m.offset() == oldest) {
            bytes -= m.payload().length;
            budget.add(-m.payload().length);
            SLOT.setRelease(r, slot, (Message) null);
        }
        oldest++;
    }

    private Message[] grow(Message[] r) {
        Message[] bigger = new Message[r.length * 2];
        for (long o = oldest; o <= newest; o++) {
            bigger[(int) (o & (bigger.length - 1))] = r[(int) (o & (r.length - 1))];
        }
        ring = bigger;
        return bigger;
    }
}
