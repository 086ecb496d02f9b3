package dev.switchboard.log;

import dev.switchboard.broker.Message;
import dev.switchboard.broker.Retention;
import dev.switchboard.broker.TopicState;

/**
 * The embedded engine's view of one topic: its identity, offsets, bytes and retention.
 *
 * <p>Threads: only the log writer changes it, and only after the change is in the log, so a reader that sees
 * {@code lastOffset = N} can read every offset up to N. Any thread may read the volatile fields. The {@code staged}
 * fields belong to the writer alone: they run ahead while a batch is assembled and are rolled back if it fails.
 */
final class StoredTopicState {
    private final String name;
    private volatile long id;
    private volatile long created;
    private volatile long firstOffset = 1;
    private volatile long lastOffset;
    private volatile long bytes;
    private volatile Retention retention;

    // Writer-only: identity, offsets and bytes staged in a batch that is not yet written.
    long stagedId;
    long stagedLast;
    long stagedBytes;
    long lastTime;
    /** Time of the oldest retained message when known, else -1; lets the age sweep skip topics with nothing to drop. */
    long oldestTimeHint = -1;

    StoredTopicState(String name, Retention retention) {
        this.name = name;
        this.retention = retention;
    }

    String name() {
        return name;
    }

    long id() {
        return id;
    }

    /** Whether a commit has stored this topic (a topic being created in a batch is not yet). */
    boolean isStored() {
        return id != 0;
    }

    long firstOffset() {
        return firstOffset;
    }

    long lastOffset() {
        return lastOffset;
    }

    long bytes() {
        return bytes;
    }

    Retention retention() {
        return retention;
    }

    TopicState state() {
        return new TopicState(name, id, firstOffset, lastOffset, bytes, created, retention);
    }

    // ---- writer-side transitions, each after the log write that makes it true ----

    /** Restores a topic read from the log at startup. */
    void loaded(StoredTopic st) {
        created = st.created();
        firstOffset = st.firstOffset();
        lastOffset = st.lastOffset();
        bytes = st.bytes();
        retention = st.retention();
        stagedId = st.id();
        stagedLast = st.lastOffset();
        stagedBytes = st.bytes();
        id = st.id();
    }

    /** The writer gives a new topic its identity; it becomes visible as stored once {@link #committed} runs. */
    void stage(long newId, long createdAt) {
        stagedId = newId;
        created = createdAt;
    }

    /** The record the log keeps for this topic, with what is staged. */
    StoredTopic record() {
        return new StoredTopic(stagedId, name, created, retention, firstOffset, stagedLast, stagedBytes);
    }

    /** The staged record is in the log. */
    void committed() {
        id = stagedId;
    }

    /** A staged batch failed to reach the log: forget what it staged. */
    void rollback() {
        stagedLast = lastOffset;
        stagedBytes = bytes;
        if (id == 0) {
            stagedId = 0;
        }
    }

    void appended(Message m) {
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
}
