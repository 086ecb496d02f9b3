package dev.switchboard.broker;

import dev.switchboard.fanout.Fanout;
import dev.switchboard.log.StoredTopic;
import dev.switchboard.log.TailCache;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A topic's live state: its offsets, the cache of its newest messages, its push subscribers and held long polls.
 *
 * <p>Threads: only the log writer changes offsets, bytes and retention, and only after the change is in the log, so a
 * reader that sees {@code lastOffset = N} can read every offset up to N. Any thread may read. A topic object may exist
 * before anything is published to it (a subscriber waiting for the first message); it is {@link #isStored() stored}
 * from its first publish.
 */
public final class Topic {
    /** A held long poll waiting for offsets &ge; {@link #from()}. */
    public interface Waiter {
        long from();

        /** Called by the log writer when the topic changed; must not block (hand the work to the waiter's loop). */
        void wake();
    }

    /** Reads a stored range of a topic off the event loops. */
    @FunctionalInterface
    public interface LogReader {
        CompletableFuture<List<Message>> read(Topic topic, long from, int maxCount, long maxBytes);
    }

    private final String name;
    private final LogReader reader;
    private final TailCache tail;
    private final Fanout fanout = new Fanout();
    private final Set<Waiter> waiters = ConcurrentHashMap.newKeySet();

    private volatile long id;
    private volatile long created;
    private volatile long firstOffset = 1;
    private volatile long lastOffset;
    private volatile long bytes;
    private volatile Retention retention;
    private volatile boolean deleted;

    // Writer-only: identity, offsets and bytes staged in a batch that is not yet written.
    long stagedId;
    long stagedLast;
    long stagedBytes;
    long lastTime;
    /** Time of the oldest retained message when known, else -1; lets the age sweep skip topics with nothing to drop. */
    long oldestTimeHint = -1;
    long lastAppendMillis;
    /** Guarded by this: a topic that was never stored and has been dropped from the registry. */
    boolean unregistered;
    /** Guarded by this: push subscribers and long polls holding this topic (see {@link Broker#attach}). */
    int attached;

    Topic(String name, Retention retention, LogReader reader, TailCache tail) {
        this.name = name;
        this.retention = retention;
        this.reader = reader;
        this.tail = tail;
    }

    public String name() {
        return name;
    }

    long id() {
        return id;
    }

    public boolean isStored() {
        return id != 0;
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

    public long bytes() {
        return bytes;
    }

    public long created() {
        return created;
    }

    public Retention retention() {
        return retention;
    }

    public Fanout fanout() {
        return fanout;
    }

    /** Where a reader starting at {@code from} begins: the first offset it wants (it may since have been dropped). */
    public long resolve(StartPosition from) {
        return switch (from) {
            case StartPosition.Next n -> lastOffset + 1;
            case StartPosition.Earliest e -> firstOffset;
            case StartPosition.AtOffset at -> at.offset();
        };
    }

    /** The message at {@code offset} if it is among the newest ones held in memory, else null. */
    public Message cached(long offset) {
        return tail.get(offset);
    }

    /** Reads stored messages from {@code from} on, off the calling thread. */
    public CompletableFuture<List<Message>> fetch(long from, int maxCount, long maxBytes) {
        return reader.read(this, from, maxCount, maxBytes);
    }

    boolean hasListeners() {
        return fanout.size() > 0 || !waiters.isEmpty();
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

    TailCache tail() {
        return tail;
    }

    // ---- writer-side transitions, each after the log write that makes it true ----

    /** Restores a topic read from the log at startup. */
    void loaded(long storedId, long createdAt, long first, long last, long storedBytes, Retention r) {
        created = createdAt;
        firstOffset = first;
        lastOffset = last;
        bytes = storedBytes;
        retention = r;
        stagedId = storedId;
        stagedLast = last;
        stagedBytes = storedBytes;
        id = storedId;
    }

    /** The writer gives a new topic its identity; it becomes visible as stored once {@link #committed} runs. */
    void stage(long newId, long createdAt) {
        stagedId = newId;
        created = createdAt;
    }

    /** The record the log keeps for this topic, with what is staged. */
    StoredTopic record() {
        return new StoredTopic(stagedId, name, created, retention, firstOffset, stagedLast,
                stagedBytes);
    }

    /** The staged record is in the log. */
    void committed() {
        id = stagedId;
    }

    /** A staged batch failed to reach the log: forget what it staged. */
    void rollback() {
        stagedLast = lastOffset;
        stagedBytes = bytes;
    }

    void appended(Message m) {
        tail.add(m);
        bytes += m.payload().length;
        if (oldestTimeHint < 0 && firstOffset == m.offset()) {
            oldestTimeHint = m.time();
        }
        lastOffset = m.offset();
    }

    void truncated(long newFirst, long remainingBytes, long newOldestTime) {
        firstOffset = newFirst;
        bytes = remainingBytes;
        stagedBytes = remainingBytes;
        oldestTimeHint = newOldestTime;
    }

    void retentionChanged(Retention r) {
        retention = r;
    }

    void markDeleted() {
        deleted = true;
        tail.clear();
    }

    /** Wakes held long polls that can now be answered, and every one when the topic is gone. */
    void wakeWaiters() {
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
