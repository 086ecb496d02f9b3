package dev.switchboard.fanout;

import dev.switchboard.broker.Handoff;
import dev.switchboard.broker.LoopCommits;
import dev.switchboard.xray.StageTimer;
import io.netty.channel.SingleThreadEventLoop;
import io.netty.util.concurrent.EventExecutor;
import java.util.ArrayList;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A topic's push subscribers, grouped by event loop. When the log writer stores new messages it calls
 * {@link #signal()}, which schedules one task per event loop (not one per subscriber); each task drains that loop's
 * subscribers, so a burst of messages reaches each socket as one flush, its bytes built once for all of them
 * ({@link SharedRuns}). The drain runs at the end of the loop's iteration, after its other tasks: the commits whose
 * hand-offs land in one iteration reach each subscriber as one write, as Redis writes its clients' buffers once per
 * iteration (BENCHMARKS.md, "Fan-out: one drain per loop iteration"). If the loop then still has publishes of its own
 * queued at the engine, the drain waits for the commit that answers them ({@link LoopCommits}), so that commit's
 * messages share the write too.
 */
public final class Fanout {
    private final ConcurrentHashMap<EventExecutor, LoopSubscribers> loops = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, AtomicInteger> byTransport = new ConcurrentHashMap<>();
    private final AtomicInteger size = new AtomicInteger();
    private final StageTimer stages;

    Fanout(StageTimer stages) {
        this.stages = stages;
    }

    void add(Subscription s) {
        loops.computeIfAbsent(s.sink().executor(), loop -> new LoopSubscribers(loop, stages)).subscribers.add(s);
        byTransport.computeIfAbsent(s.sink().transport(), t -> new AtomicInteger()).incrementAndGet();
        size.incrementAndGet();
    }

    void remove(Subscription s) {
        LoopSubscribers group = loops.get(s.sink().executor());
        if (group != null && group.subscribers.remove(s)) {
            byTransport.get(s.sink().transport()).decrementAndGet();
            size.decrementAndGet();
        }
    }

    /** Any thread: new messages (or a deletion) are visible; wake every subscriber on its own loop. */
    public void signal() {
        for (LoopSubscribers group : loops.values()) {
            group.signal();
        }
    }

    public int size() {
        return size.get();
    }

    /** Live push subscribers per transport. */
    public Map<String, Integer> countsByTransport() {
        Map<String, Integer> counts = new TreeMap<>();
        byTransport.forEach((transport, n) -> {
            if (n.get() > 0) {
                counts.put(transport, n.get());
            }
        });
        return counts;
    }

    private static final class LoopSubscribers {
        private final EventExecutor loop;
        private final StageTimer stages;
        /** Schedules {@link #drainOrHold} after this iteration's tasks; made once, it is handed over per signal. */
        private final Runnable drainAtEnd;
        /**
         * Schedules {@link #drainAll} after this iteration's tasks, held until the loop's queued publishes are
         * answered: after its tasks, the loop has woken the writer for the publishes it read meanwhile, so the next
         * commit is written while these subscribers are written to, not after (pinned to one core with 1,000
         * subscribers, a drain run in the answers' task halved the publishes per second).
         */
        private final Runnable drainLater;
        /** The loop's queued writes; looked up on the loop, at its first drain. */
        private LoopCommits commits;
        // Only touched on the loop.
        private final ArrayList<Subscription> subscribers = new ArrayList<>();
        private final AtomicBoolean scheduled = new AtomicBoolean();
        /** The runs of messages this drain built, shared by the subscribers at the same offset; only on the loop. */
        private final SharedRuns runs = new SharedRuns();
        /** Signals counted for sampling the fan-out stage; racy increments from the writer thread only. */
        private int signals;
        /** When the sampled signal was sent (System.nanoTime()), 0 when this drain is not timed. */
        private volatile long signalledAt;

        LoopSubscribers(EventExecutor loop, StageTimer stages) {
            this.loop = loop;
            this.stages = stages;
            Runnable drainOrHold = this::drainOrHold;
            Runnable drain = this::drainAll;
            this.drainAtEnd = loop instanceof SingleThreadEventLoop l
                    ? () -> l.executeAfterEventLoopIteration(drainOrHold)
                    : drainOrHold;
            this.drainLater = loop instanceof SingleThreadEventLoop l
                    ? () -> l.executeAfterEventLoopIteration(drain)
                    : drain;
        }

        void signal() {
            if (scheduled.compareAndSet(false, true)) {
                if (stages.sampled(++signals)) {
                    signalledAt = System.nanoTime();
                }
                Handoff.execute(loop, drainAtEnd);
            }
        }

        /** Drains now, or with the answers to this loop's queued publishes; signals meanwhile add nothing. */
        private void drainOrHold() {
            if (commits == null) {
                commits = LoopCommits.of(loop);
            }
            if (!commits.holdUntilCommitted(drainLater)) {
                drainAll();
            }
        }

        private void drainAll() {
            scheduled.set(false);
            long started = signalledAt;
            signalledAt = 0;
            // A drain may close its subscription (topic deleted), which removes it from the list.
            try {
                for (Subscription s : subscribers.toArray(new Subscription[0])) {
                    s.drain(runs);
                }
            } finally {
                runs.release();
            }
            if (started != 0) {
                stages.record(StageTimer.Stage.FANOUT, started);
            }
        }
    }
}
