package dev.switchboard.fanout;

import dev.switchboard.broker.Broker;
import dev.switchboard.broker.Message;
import dev.switchboard.broker.TopicState;
import dev.switchboard.broker.TopicWatcher;
import dev.switchboard.xray.StageTimer;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The live side of one topic that has readers on this node: its positions as the engine reported them, the cache of
 * its newest messages, its push subscribers and its held long polls. It exists while someone is attached
 * ({@link Delivery#attach}) and hears of changes as the engine's {@link TopicWatcher}, so every engine gets the same
 * delivery.
 *
 * <p>Threads: the engine's thread calls the watcher methods, one at a time; positions only grow, so a position learned
 * at attach time and one reported by the engine merge by taking the larger. Any thread may read.
 */
public final class TopicFeed implements TopicWatcher {
    /** A held long poll waiting for offsets &ge; {@link #from()}. */
    interface Waiter {
        long from();

        /** Called on the engine's thread when the topic changed; must not block (hand the work to the waiter's loop). */
        void wake();
    }

    private static final VarHandle FIRST;
    private static final VarHandle LAST;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            FIRST = lookup.findVarHandle(TopicFeed.class, "firstOffset", long.class);
            LAST = lookup.findVarHandle(TopicFeed.class, "lastOffset", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final String name;
    private final Broker broker;
    private final Delivery delivery;
    private final TailCache tail;
    private final StageTimer stages;
    /** Made with the first push subscriber: a topic read only by long polls has none. */
    private volatile Fanout fanout;
    // Sized for one: most topics have a poll or none at a time, and the default table is 16 slots per topic.
    private final Set<Waiter> waiters = ConcurrentHashMap.newKeySet(1);
    private volatile long firstOffset = 1;
    private volatile long lastOffset;
    private volatile boolean deleted;
    private Broker.Watch watch;
    /** Guarded by this: push subscribers and long polls holding this feed. */
    int attached;
    /** Guarded by this: dropped from the registry, no longer attachable. */
    boolean retired;

    TopicFeed(String name, Broker broker, Delivery delivery, TailCache tail, StageTimer stages) {
        this.name = name;
        this.stages = stages;
        this.broker = broker;
        this.delivery = delivery;
        this.tail = tail;
    }

    /** Starts hearing of changes, then learns where the topic is: a change in between is heard, not lost. */
    void open() {
        watch = broker.watch(name, this);
        broker.state(name).ifPresent(this::learn);
    }

    void close() {
        watch.cancel();
        tail.close();
    }

    private void learn(TopicState s) {
        raise(FIRST, s.firstOffset());
        raise(LAST, s.lastOffset());
    }

    private void raise(VarHandle field, long value) {
        long current;
        do {
            current = (long) field.getVolatile(this);
            if (current >= value) {
                return;
            }
        } while (!field.compareAndSet(this, current, value));
    }

    public String name() {
        return name;
    }

    public boolean isDeleted() {
        return deleted;
    }

    public long firstOffset() {
        return firstOffset;
    }

    public long lastOffset() {
        return lastOffset;
    }

    /** The push subscribers, made when the first one comes. */
    Fanout fanout() {
        Fanout f = fanout;
        if (f == null) {
            synchronized (this) {
                f = fanout;
                if (f == null) {
                    f = new Fanout(stages);
                    fanout = f;
                }
            }
        }
        return f;
    }

    /** Live push subscribers per transport. */
    Map<String, Integer> subscribersByTransport() {
        Fanout f = fanout;
        return f == null ? Map.of() : f.countsByTransport();
    }

    private void signalSubscribers() {
        Fanout f = fanout;
        if (f != null) {
            f.signal();
        }
    }

    /** Where a reader starting at {@code from} begins: the first offset it wants (it may since have been dropped). */
    public long resolve(StartPosition from) {
        return from.resolve(firstOffset, lastOffset);
    }

    /** The message at {@code offset} if it is among the newest ones held in memory, else null. */
    Message cached(long offset) {
        return tail.get(offset);
    }

    /** Reads stored messages from {@code from} on, off the calling thread. */
    CompletableFuture<List<Message>> fetch(long from, int maxCount, long maxBytes) {
        return broker.read(name, from, maxCount, maxBytes);
    }

    boolean hasListeners() {
        Fanout f = fanout;
        return (f != null && f.size() > 0) || !waiters.isEmpty();
    }

    void addWaiter(Waiter w) {
        waiters.add(w);
    }

    void removeWaiter(Waiter w) {
        waiters.remove(w);
    }

    int waiterCount() {
        return waiters.size();
    }

    // ---- the engine's notifications ----

    @Override
    public void appended(Message m) {
        if (m.offset() <= lastOffset) {
            return; // already known from the state read at attach time
        }
        tail.add(m);
        raise(LAST, m.offset());
    }

    @Override
    public void truncated(long first) {
        raise(FIRST, first);
    }

    @Override
    public void committed() {
        signalSubscribers();
        wakeWaiters();
    }

    @Override
    public void deleted() {
        deleted = true;
        tail.close();
        delivery.forget(this);
        signalSubscribers();
        wakeWaiters();
    }

    /** Wakes held long polls that can now be answered, and every one when the topic is gone. */
    private void wakeWaiters() {
        if (waiters.isEmpty()) {
            return;
        }
        long last = lastOffset;
        for (Waiter w : waiters) {
            if (deleted || w.from() <= last) {
                w.wake();
            }
        }
    }
}
