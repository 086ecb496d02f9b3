package dev.switchboard.broker;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Work handed from an engine's thread to event loops, one task per loop per commit. An engine tells watchers and
 * completes its callers' futures inside {@link #batch}; whoever hands work to a loop from there (an answer, a
 * subscriber's wake-up, a held long poll's) does it through {@link #execute}, and each loop gets everything of that
 * commit in one task after the batch. On a core shared by the engine and the loops, a task per answer made each
 * answer a wake-up and a context switch; outside a batch, {@link #execute} hands the task over at once.
 */
public final class Handoff {
    private static final Logger log = LoggerFactory.getLogger(Handoff.class);
    private static final ThreadLocal<Map<Executor, List<Runnable>>> BATCH = new ThreadLocal<>();

    private Handoff() {}

    /** Runs {@code task} on {@code loop}: after the calling thread's current {@link #batch}, or now without one. */
    public static void execute(Executor loop, Runnable task) {
        Map<Executor, List<Runnable>> batch = BATCH.get();
        if (batch == null) {
            loop.execute(task);
        } else {
            batch.computeIfAbsent(loop, l -> new ArrayList<>()).add(task);
        }
    }

    /** Runs {@code work}, then hands each loop the tasks {@link #execute}d for it meanwhile as one task. */
    public static void batch(Runnable work) {
        if (BATCH.get() != null) {
            work.run(); // already inside one: its end hands these over too
            return;
        }
        Map<Executor, List<Runnable>> batch = new IdentityHashMap<>();
        BATCH.set(batch);
        try {
            work.run();
        } finally {
            BATCH.remove();
            batch.forEach(Handoff::handOver);
        }
    }

    private static void handOver(Executor loop, List<Runnable> tasks) {
        try {
            loop.execute(tasks.size() == 1 ? tasks.getFirst() : () -> runAll(tasks));
        } catch (RejectedExecutionException e) {
            log.debug("{} tasks for a stopped event loop dropped", tasks.size()); // its connections are gone
        }
    }

    private static void runAll(List<Runnable> tasks) {
        for (Runnable task : tasks) {
            try {
                task.run();
            } catch (RuntimeException e) {
                log.error("a task handed over by the engine failed", e);
            }
        }
    }
}
