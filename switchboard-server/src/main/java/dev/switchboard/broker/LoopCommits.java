package dev.switchboard.broker;

import java.util.ArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The writes an event loop has queued at the engine and not yet seen committed, and work of that loop that waits for
 * them. A loop's fan-out drain that finds its own publishes still queued holds its writes until the commit that
 * answers one of them, so that commit's messages go out in the same write instead of the next one: under load a loop
 * reads new publishes while the writer commits the last ones, and without the hold each commit cost every subscriber
 * a write (BENCHMARKS.md, "Fan-out: a drain waits for the loop's own queued publishes"). The wait is bounded by one
 * commit, since the engine answers every write it took.
 *
 * <p>An engine that batches its hand-offs calls {@link #queued} on the loop for each write it takes and {@link
 * #committed} on its own thread, inside its {@link Handoff#batch}, once those writes are answered; an engine that
 * never calls them leaves nothing held.
 */
public final class LoopCommits {
    private static final Logger log = LoggerFactory.getLogger(LoopCommits.class);
    private static final ThreadLocal<LoopCommits> OF_THREAD = new ThreadLocal<>();

    private final Executor loop;
    /** Writes queued at the engine from this loop and not yet answered. */
    private final AtomicInteger queued = new AtomicInteger();
    /** Something is held, or about to be: the engine hands {@link #release} over with its next answers. */
    private volatile boolean holding;
    private final Runnable release = this::release;
    // Only touched on the loop.
    private final ArrayList<Runnable> held = new ArrayList<>();
    /** The engine's count of this loop's writes in the commit it is answering; only on the engine's thread. */
    private int answering;

    private LoopCommits(Executor loop) {
        this.loop = loop;
    }

    /** On {@code loop}'s own thread only: that loop's. */
    public static LoopCommits of(Executor loop) {
        LoopCommits c = OF_THREAD.get();
        if (c == null) {
            c = new LoopCommits(loop);
            OF_THREAD.set(c);
        }
        return c;
    }

    /** Loop thread: one more write queued at the engine. */
    public void queued() {
        queued.incrementAndGet();
    }

    /** Loop thread: a write {@link #queued} was refused before the engine took it. */
    public void withdrawn() {
        queued.decrementAndGet();
    }

    /**
     * Loop thread: runs {@code task} with the answers of the next commit of this loop's queued writes and returns
     * true, or returns false (and keeps nothing) when none is queued.
     */
    public boolean holdUntilCommitted(Runnable task) {
        if (queued.get() == 0) {
            return false;
        }
        held.add(task);
        holding = true;
        // The engine lowers the count, then reads holding; this sets holding, then reads the count: if the engine
        // answered the last write in between, it may not have seen anything held, so the task is not held.
        if (queued.get() == 0) {
            held.removeLast();
            return false;
        }
        return true;
    }

    /** Engine thread, inside its batch: one write of this loop answered; true the first time since {@link #answered}. */
    public boolean answered() {
        return answering++ == 0;
    }

    /** Engine thread, inside its batch: the writes counted by {@link #answered} are answered; release what waits. */
    public void committed() {
        queued.addAndGet(-answering);
        answering = 0;
        if (holding) {
            Handoff.execute(loop, release);
        }
    }

    private void release() {
        holding = false;
        try {
            for (Runnable task : held) { // a held task only writes: it holds nothing more meanwhile
                try {
                    task.run();
                } catch (RuntimeException e) {
                    log.error("a task held for a commit failed", e);
                }
            }
        } finally {
            held.clear();
        }
    }
}
