package dev.switchboard.log;

import dev.switchboard.broker.Retention;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drops a topic's oldest messages beyond its retention, in one batch, and tells its watchers where it now starts.
 *
 * <p>Threads: the log writer only.
 */
final class RetentionEnforcer {
    private static final Logger log = LoggerFactory.getLogger(RetentionEnforcer.class);

    private final RocksLog store;
    private final TopicWatchers watchers;

    RetentionEnforcer(RocksLog store, TopicWatchers watchers) {
        this.store = store;
        this.watchers = watchers;
    }

    /** Within a commit: the commit's own {@code committed} wakes the readers. */
    void enforce(StoredTopicState t, long now) {
        Retention r = t.retention();
        long first = t.firstOffset();
        long last = t.lastOffset();
        if (r == null || !t.isStored() || first > last) {
            return;
        }
        long keepFromCount = r.maxMessages() != null && last - first + 1 > r.maxMessages()
                ? last - r.maxMessages() + 1 : first;
        long ageCutoff = r.maxAge() != null ? now - r.maxAge().toMillis() : Long.MIN_VALUE;
        boolean overBytes = r.maxBytes() != null && t.bytes() > r.maxBytes();
        boolean maybeOld = r.maxAge() != null && (t.oldestTimeHint < 0 || t.oldestTimeHint < ageCutoff);
        if (keepFromCount == first && !overBytes && !maybeOld) {
            return;
        }
        long[] state = {first, t.bytes(), -1}; // new first offset, bytes remaining, time of the new oldest
        store.scan(t.id(), first, (offset, time, size) -> {
            if (offset < keepFromCount || time < ageCutoff || (r.maxBytes() != null && state[1] > r.maxBytes())) {
                state[0] = offset + 1;
                state[1] -= size;
                return true;
            }
            state[2] = time;
            return false;
        });
        if (state[0] == first) {
            t.oldestTimeHint = state[2];
            return;
        }
        try (RocksLog.Batch batch = store.newBatch()) {
            batch.deleteMessages(t.id(), first, state[0]);
            batch.putTopic(t.record().withOffsets(state[0], t.stagedLast, state[1]));
            store.write(batch, false);
        } catch (LogException e) {
            log.warn("retention of {} failed; will retry", t.name(), e);
            return;
        }
        t.truncated(state[0], state[1], state[2]);
        watchers.truncated(t.name(), state[0]);
    }

    /** Outside a commit: a truncation is a change of its own, ended by {@code committed} like a commit. */
    void enforceAndWake(StoredTopicState t, long now) {
        long firstBefore = t.firstOffset();
        enforce(t, now);
        if (t.firstOffset() != firstBefore) {
            watchers.committed(t.name());
        }
    }
}
