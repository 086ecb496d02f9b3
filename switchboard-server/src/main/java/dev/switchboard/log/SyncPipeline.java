package dev.switchboard.log;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Under {@code --fsync always}, the fsync of one group commit overlaps the staging and writing of the next: the
 * writer writes a commit without syncing it and hands it here, a second thread fsyncs the write-ahead log, and the
 * writer answers the commit once that sync is done (docs/architecture.md, "The publish path"). Without it, the
 * writer (and, closed loop, every publisher) waits idle through each fsync; with it, a commit's publishers are
 * answered as soon as their own sync ends, while the next batch is already written.
 *
 * <p>At most two commits are unanswered: one being synced and one written after that sync began (a sync covers
 * everything written before it starts, so the second waits for the next one). Commits are answered in order. A
 * commit that deletes or re-creates topics is a barrier: nothing is staged over it until it is answered, because
 * staging looks topics up by name in the broker's registry, which only its answer updates.
 *
 * <p>Threads: everything but the sync itself runs on the log writer; {@link Unsynced#synced} and
 * {@link Unsynced#failure} are written by the sync thread before it unparks the writer.
 */
final class SyncPipeline {
    private static final long PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    /** What the writer does with a commit once its sync ended. */
    interface Outcome {
        void stored(Unsynced commit);

        void lost(Unsynced commit, LogException failure);
    }

    /** A commit written to the log but not yet fsynced. */
    static final class Unsynced {
        final StagedCommit stage;
        final List<CommitLoop.Pending> accepted;
        final boolean barrier;
        private volatile boolean synced;
        private volatile LogException failure;

        Unsynced(StagedCommit stage, List<CommitLoop.Pending> accepted) {
            this.stage = stage;
            this.accepted = accepted;
            this.barrier = !stage.dropped.isEmpty() || !stage.recreated.isEmpty();
        }
    }

    private final StoreGuard guard;
    private final Thread writer;
    private final Thread syncThread;
    private volatile Unsynced requested;
    private volatile boolean running = true;
    private Unsynced syncing;
    private Unsynced written;

    SyncPipeline(StoreGuard guard, Thread writer) {
        this.guard = guard;
        this.writer = writer;
        this.syncThread = Thread.ofPlatform().name("switchboard-log-sync").daemon(true).start(this::syncLoop);
    }

    /** Whether the writer may stage another commit now. */
    boolean canStage() {
        return written == null && (syncing == null || !syncing.barrier);
    }

    boolean isEmpty() {
        return syncing == null;
    }

    /** Whether the commit being synced is done, so {@link #answerSynced} has work. */
    boolean syncDone() {
        Unsynced s = syncing;
        return s != null && s.synced;
    }

    /** Writer: a commit just written (or one with nothing to write, answered after everything before it). */
    void add(Unsynced commit) {
        if (syncing == null) {
            syncing = commit;
            request(commit);
        } else {
            written = commit;
        }
    }

    /** Writer: answers the commit whose sync ended, if it has, and starts the next sync. */
    void answerSynced(Outcome outcome) {
        Unsynced s = syncing;
        if (s == null || !s.synced) {
            return;
        }
        Unsynced next = written;
        syncing = null;
        written = null;
        if (s.failure == null) {
            outcome.stored(s);
            if (next != null) {
                syncing = next;
                request(next);
            }
        } else {
            // What was written after it cannot be promised either: the store refuses writes from now on.
            outcome.lost(s, s.failure);
            if (next != null) {
                outcome.lost(next, s.failure);
            }
        }
    }

    /** Writer: waits until every commit handed here is answered. */
    void drain(Outcome outcome) {
        while (syncing != null) {
            if (!syncing.synced) {
                LockSupport.parkNanos(this, PARK_NANOS);
            }
            answerSynced(outcome);
        }
    }

    /** Writer, after its last {@link #drain}: ends the sync thread. */
    void stop() {
        running = false;
        LockSupport.unpark(syncThread);
    }

    private void request(Unsynced commit) {
        requested = commit;
        LockSupport.unpark(syncThread);
    }

    private void syncLoop() {
        while (running) {
            Unsynced c = requested;
            if (c == null) {
                LockSupport.parkNanos(this, PARK_NANOS);
                continue;
            }
            requested = null;
            try {
                guard.syncWritten();
            } catch (LogException e) {
                c.failure = e;
            } catch (RuntimeException e) {
                c.failure = new LogException("the fsync failed: " + e, e);
            }
            c.synced = true;
            LockSupport.unpark(writer);
        }
    }
}
