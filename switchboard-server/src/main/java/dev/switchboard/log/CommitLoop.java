package dev.switchboard.log;

import dev.switchboard.broker.BatchResult;
import dev.switchboard.broker.Handoff;
import dev.switchboard.broker.LoopCommits;
import dev.switchboard.broker.Message;
import dev.switchboard.broker.PublishResult;
import dev.switchboard.broker.Retention;
import dev.switchboard.broker.TopicState;
import dev.switchboard.broker.Transaction;
import dev.switchboard.config.FsyncPolicy;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.netty.channel.SingleThreadEventLoop;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The single writer of the log. Publishes (and other {@link Transaction}s) queue here; the loop takes everything
 * queued at once, assigns offsets, writes it as one atomic batch with at most one fsync (group commit), then makes
 * the new offsets readable, tells the topics' watchers, acknowledges the publishers and applies retention. One
 * writer means offsets are assigned in one place, in order, with no locks; the event loops only enqueue.
 *
 * <p>Hand-offs are batched both ways (docs/architecture.md, "The publish path"): an event loop wakes a sleeping
 * writer once per loop iteration, after everything that iteration read is queued, and the writer hands each loop
 * its answers and wake-ups of a commit in one task ({@link Handoff}). Threads that are not event loops wake it at
 * once.
 *
 * <p>Every queued command is answered, whatever fails: a transaction that refuses its input is refused alone; a
 * failure while staging or writing fails the whole batch, which is then not in the log; a failure after the write
 * (a watcher, retention, a transaction's own hook) is logged and skips only that step. An {@link Error} ends the
 * writer: everything queued is refused, later work is refused at once, and {@link #unhealthy()} says why.
 */
final class CommitLoop implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(CommitLoop.class);
    private static final int MAX_BATCH = 4096;
    private static final long TICK_MILLIS = 1000;
    private static final long SWEEP_MILLIS = 60_000;

    sealed interface Command {}

    /** A transaction staged into the next group commit; answered exactly once. */
    static final class Pending implements Command {
        final Transaction tx;
        private boolean answered;
        /** The event loop that queued it, told once it is answered; null off a loop. */
        private LoopCommits from;

        Pending(Transaction tx) {
            this.tx = tx;
        }
    }

    /** Work that must be ordered with publishes (retention changes, deletion); runs on the writer thread. */
    record Admin<T>(Supplier<T> action, CompletableFuture<T> done) implements Command {}

    private final EmbeddedBroker broker;
    private final RocksLog store;
    private final StoreGuard storeGuard;
    private final TopicWatchers watchers;
    private final RetentionEnforcer retainer;
    private final FsyncPolicy fsync;
    private final long idempotencyTtlMillis;
    private final Queue<Command> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    private final int capacity;
    private final Map<SingleThreadEventLoop, LoopWake> loopWakes = new ConcurrentHashMap<>();
    /** Scratch for {@link #answered}; the writer's alone. */
    private final List<LoopCommits> answeredLoops = new ArrayList<>();
    private volatile Thread thread;
    /** The writer is parked, or about to park: whoever queues work must wake it. */
    private volatile boolean sleeping;
    private final Counter published;
    private final Counter replayed;
    private final DistributionSummary batchSize;
    private final Timer writeTime;
    private volatile boolean running = true;
    /** Why the writer thread ended, or null while it runs. */
    private volatile String stopped;
    private long lastTick;
    private long lastSweep;

    CommitLoop(EmbeddedBroker broker, RocksLog store, StoreGuard guard, TopicWatchers watchers, FsyncPolicy fsync,
               Duration idempotencyTtl, int capacity, MeterRegistry metrics) {
        this.broker = broker;
        this.store = store;
        this.storeGuard = guard;
        this.watchers = watchers;
        this.retainer = new RetentionEnforcer(store, watchers);
        this.fsync = fsync;
        this.idempotencyTtlMillis = idempotencyTtl.toMillis();
        this.capacity = capacity;
        this.published = Counter.builder("switchboard.publish.messages").description("Messages stored")
                .register(metrics);
        this.replayed = Counter.builder("switchboard.publish.replays")
                .description("Publishes answered from an earlier one with the same Idempotency-Key").register(metrics);
        this.batchSize = DistributionSummary.builder("switchboard.log.commit.batch")
                .description("Messages per group commit").register(metrics);
        this.writeTime = Timer.builder("switchboard.log.commit")
                .description("Time to write (and, under fsync=always, fsync) one group commit")
                .tag("fsync", fsync.name().toLowerCase()).register(metrics);
    }

    /** Any thread. False when the queue is full or the writer has stopped: the caller refuses the request. */
    boolean offer(Command c) {
        if (!running) {
            return false;
        }
        if (queued.incrementAndGet() > capacity) {
            queued.decrementAndGet();
            return false;
        }
        SingleThreadEventLoop loop = EventLoops.current();
        LoopWake w = null;
        if (loop != null) {
            w = loopWakes.get(loop); // first: computeIfAbsent's function (it captures this) is garbage per call
            if (w == null) {
                w = loopWakes.computeIfAbsent(loop, LoopWake::new);
            }
            if (c instanceof Pending p) {
                p.from = w.commits;
                w.commits.queued(); // before the writer can take it, which counts it off
            }
        }
        queue.add(c);
        // The writer may have stopped and drained the queue for the last time just before this landed: take it back
        // and let the caller refuse it. If it is no longer there, the writer took it and answers it.
        if (!running && queue.remove(c)) {
            queued.decrementAndGet();
            if (c instanceof Pending p && p.from != null) {
                p.from.withdrawn();
            }
            return false;
        }
        wake(w);
        return true;
    }

    /** A busy writer polls the queue again before it sleeps; a sleeping one is woken, from a loop once per iteration. */
    private void wake(LoopWake w) {
        if (!sleeping) {
            return;
        }
        if (w == null) {
            LockSupport.unpark(thread);
        } else {
            w.request();
        }
    }

    /** One event loop's deferred wake-up of the writer, and its count of writes queued here. */
    private final class LoopWake implements Runnable {
        private final SingleThreadEventLoop loop;
        /** Made on the loop's thread (the first offer from it), whose own it is. */
        private final LoopCommits commits;
        // The loop's alone.
        private boolean requested;

        LoopWake(SingleThreadEventLoop loop) {
            this.loop = loop;
            this.commits = LoopCommits.of(loop);
        }

        void request() {
            if (!requested) {
                requested = true;
                loop.executeAfterEventLoopIteration(this);
            }
        }

        @Override
        public void run() {
            requested = false;
            if (sleeping) {
                LockSupport.unpark(thread);
            }
        }
    }

    private Command poll() {
        Command c = queue.poll();
        if (c != null) {
            queued.decrementAndGet();
        }
        return c;
    }

    private void drainTo(List<Command> commands, int max) {
        Command c;
        while (commands.size() < max && (c = poll()) != null) {
            commands.add(c);
        }
    }

    /** Parks until work is queued or a tick is due; a waker that saw {@code sleeping} unparks it. */
    private void sleepUntilWoken() {
        sleeping = true;
        if (queue.isEmpty() && running) {
            LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(TICK_MILLIS));
        }
        sleeping = false;
    }

    /** Any thread: a plain publish. */
    boolean offerPublish(String topic, String type, byte[] payload, Map<String, List<String>> headers, String key,
                         CompletableFuture<PublishResult> done) {
        return offer(new Pending(new PublishTransaction(topic, type, payload, headers, key, done, replayed)));
    }

    /** Any thread: a batch publish. */
    boolean offerBatch(String topic, String type, List<byte[]> payloads, Map<String, List<String>> headers,
                       String key, CompletableFuture<BatchResult> done) {
        return offer(new Pending(new BatchTransaction(topic, type, payloads, headers, key, done, replayed)));
    }

    /** The answer to a command {@link #offer} did not take. */
    ApiException refusal(String whenFull) {
        String why = stopped;
        if (why != null) {
            return ApiException.unavailable("the log writer has stopped (" + why + ")");
        }
        return ApiException.unavailable(running ? whenFull : "server is shutting down");
    }

    int pending() {
        return queued.get();
    }

    void stop() {
        running = false;
        LockSupport.unpark(thread);
    }

    Optional<String> unhealthy() {
        if (stopped != null) {
            return Optional.of("the log writer has stopped: " + stopped);
        }
        return Optional.ofNullable(storeGuard.problem());
    }

    @Override
    public void run() {
        thread = Thread.currentThread();
        List<Command> commands = new ArrayList<>();
        try {
            while (running) {
                drainTo(commands, MAX_BATCH);
                if (commands.isEmpty()) {
                    sleepUntilWoken();
                } else {
                    // An fsync per commit makes each one dear: let runnable event loops enqueue what they have read
                    // first (on a busy core this doubled the batch and the acks per second; idle, it costs nothing).
                    if (fsync == FsyncPolicy.ALWAYS && commands.size() < MAX_BATCH) {
                        Thread.yield();
                        drainTo(commands, MAX_BATCH);
                    }
                    // Answers and wake-ups reach each event loop as one task per commit, not one per publish.
                    Handoff.batch(() -> {
                        try {
                            process(commands);
                        } finally {
                            answered(commands);
                        }
                    });
                    commands.clear();
                }
                tick();
            }
        } catch (Throwable e) {
            // An Error (or a bug that escaped every guard below): nothing this thread does can be trusted now.
            log.error("the log writer stopped", e);
            stopped = e.getClass().getSimpleName();
            running = false;
        }
        running = false; // however the loop ended: later offers are refused, not queued for no one
        drainTo(commands, Integer.MAX_VALUE);
        ApiException closing = refusal("");
        for (Command c : commands) {
            switch (c) {
                case Pending p -> answerFailed(p, closing);
                case Admin<?> a -> a.done().completeExceptionally(closing);
            }
        }
        Handoff.batch(() -> answered(commands)); // a batch: a stopped loop's hand-off is dropped, not thrown
    }

    /** Tells the loops that queued these commands they are answered, once per loop (fan-out drains wait on it). */
    private void answered(List<Command> commands) {
        List<LoopCommits> loops = answeredLoops;
        for (Command c : commands) {
            if (c instanceof Pending p && p.from != null) {
                LoopCommits from = p.from;
                p.from = null; // counted once, even if a failed batch's commands are refused again at the end
                if (from.answered()) {
                    loops.add(from);
                }
            }
        }
        for (LoopCommits l : loops) {
            l.committed();
        }
        loops.clear();
    }

    private void process(List<Command> commands) {
        int i = 0;
        while (i < commands.size()) {
            if (commands.get(i) instanceof Admin<?> admin) {
                runAdmin(admin);
                i++;
                continue;
            }
            int j = i;
            while (j < commands.size() && commands.get(j) instanceof Pending) {
                j++;
            }
            commit(commands.subList(i, j));
            i = j;
        }
    }

    private <T> void runAdmin(Admin<T> admin) {
        try {
            admin.done().complete(admin.action().get());
        } catch (ApiException e) {
            admin.done().completeExceptionally(e);
        } catch (LogException e) {
            admin.done().completeExceptionally(storeGuard.failed(e));
        } catch (RuntimeException e) {
            log.error("an admin change failed", e);
            admin.done().completeExceptionally(new ApiException(ErrorCode.INTERNAL, "the change failed"));
        }
    }

    /** Stages every transaction into one batch, writes it with at most one fsync, then makes it visible. */
    private void commit(List<Command> pending) {
        List<Pending> accepted = new ArrayList<>(pending.size());
        StagedCommit stage = null;
        try (RocksLog.Batch batch = store.newBatch()) {
            stage = new StagedCommit(broker, store, idempotencyTtlMillis, batch, System.currentTimeMillis(),
                    pending.size());
            for (Command c : pending) {
                Pending p = (Pending) c;
                try {
                    p.tx.stage(stage);
                    accepted.add(p);
                } catch (ApiException e) {
                    answerFailed(p, e); // refused before staging anything, by contract
                } catch (RuntimeException e) {
                    // It may have staged a part: the batch cannot be written. Every other transaction in it is
                    // answered too, so no caller waits for a batch that will never commit.
                    log.error("staging a change failed; refusing the {} changes of its batch", pending.size(), e);
                    abandon(stage, pending, p, new ApiException(ErrorCode.INTERNAL, "the change failed"),
                            ApiException.unavailable("another change in the same commit failed; retry"));
                    return;
                }
            }
            if (!batch.isEmpty()) {
                for (StoredTopicState t : stage.touched) {
                    if (!stage.dropped.contains(t)) {
                        batch.putTopic(t.record());
                    }
                }
                long start = System.nanoTime();
                storeGuard.write(batch);
                writeTime.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
            }
        } catch (LogException e) {
            ApiException refused = storeGuard.failed(e);
            abandon(stage, pending, null, refused, refused);
            return;
        }
        publish(stage, accepted);
    }

    /** The batch is not in the log: roll back what it staged and answer every transaction in it. */
    private void abandon(StagedCommit stage, List<? extends Command> all, Pending culprit, ApiException culpritError,
                         ApiException othersError) {
        for (StoredTopicState t : stage == null ? List.<StoredTopicState>of() : stage.touched) {
            t.rollback();
            if (!t.isStored()) {
                broker.unregister(t);
            }
        }
        for (Command c : all) {
            Pending p = (Pending) c;
            answerFailed(p, p == culprit ? culpritError : othersError);
        }
    }

    /** After the write: make it readable, tell watchers, answer, apply retention, wake readers. */
    private void publish(StagedCommit stage, List<Pending> accepted) {
        if (!stage.appended.isEmpty()) {
            batchSize.record(stage.appended.size());
            published.increment(stage.appended.size());
        }
        for (Pending p : accepted) {
            guard("a transaction's durable hook", p.tx::durable);
        }
        List<String> created = new ArrayList<>();
        for (StoredTopicState t : stage.touched) {
            if (!stage.dropped.contains(t)) {
                if (!t.isStored()) {
                    created.add(t.name());
                }
                t.committed();
            }
        }
        // Deleted topics are gone, and topics created again after their deletion in this commit are there, before
        // anyone hears of the commit: a transaction is answered once its changes are readable.
        for (StoredTopicState t : stage.dropped) {
            boolean existed = t.isStored();
            broker.unregister(t);
            if (existed) {
                watchers.deleted(t.name());
            }
        }
        stage.recreated.values().forEach(broker::replace);
        // Every topic's new positions first: a watcher told of one message may read any other of the commit.
        int count = stage.appended.size();
        for (int i = 0; i < count; i++) {
            StoredTopicState t = stage.appendedTo.get(i);
            if (!stage.dropped.contains(t)) { // else deleted later in the same commit: never readable
                t.appended(stage.appended.get(i));
            }
        }
        for (int i = 0; i < count; i++) {
            if (!stage.dropped.contains(stage.appendedTo.get(i))) {
                Message m = stage.appended.get(i);
                watchers.appended(m.topic(), m);
            }
        }
        created.forEach(watchers::created);
        for (Pending p : accepted) {
            answerCommitted(p);
        }
        for (StoredTopicState t : stage.touched) {
            if (stage.dropped.contains(t)) {
                continue;
            }
            long now = stage.now;
            guard("retention of " + t.name(), () -> retainer.enforce(t, now));
            watchers.committed(t.name());
        }
    }

    private void answerCommitted(Pending p) {
        if (!p.answered) {
            p.answered = true;
            guard("a transaction's commit hook", p.tx::committed);
        }
    }

    private void answerFailed(Pending p, ApiException error) {
        if (!p.answered) {
            p.answered = true;
            guard("a transaction's failure hook", () -> p.tx.failed(error));
        }
    }

    /** Runs one step after the write; a failure there must not stop the others. */
    private static void guard(String what, Runnable step) {
        try {
            step.run();
        } catch (RuntimeException e) {
            log.error("{} failed after a commit; continuing", what, e);
        }
    }

    /**
     * Writer thread: replaces a topic's retention, creating it if needed, and applies it. Readers see the new
     * retention once it is stored; if storing it fails in any way, nothing of it remains.
     */
    TopicState setRetention(String name, Retention retention) {
        long now = System.currentTimeMillis();
        StoredTopicState t = broker.registerForWrite(name, now);
        try (RocksLog.Batch batch = store.newBatch()) {
            batch.putTopic(t.record().withRetention(retention));
            storeGuard.write(batch);
        } catch (RuntimeException e) {
            t.rollback();
            if (!t.isStored()) {
                broker.unregister(t);
            }
            throw e;
        }
        boolean created = !t.isStored();
        t.retentionChanged(retention);
        t.committed();
        if (created) {
            watchers.created(name);
        }
        guard("retention of " + name, () -> retainer.enforceAndWake(t, now));
        return t.state();
    }

    /** Writer thread: deletes a stored topic and its log. */
    boolean delete(String name) {
        StoredTopicState t = broker.registered(name);
        if (t == null || !t.isStored()) {
            return false;
        }
        try (RocksLog.Batch batch = store.newBatch()) {
            batch.deleteTopic(t.id());
            storeGuard.write(batch);
        }
        broker.unregister(t);
        watchers.deleted(name);
        return true;
    }

    /** Periodic work between commits: age retention, key expiry, and probing a store that refused writes. */
    private void tick() {
        long now = System.currentTimeMillis();
        if (now - lastTick < TICK_MILLIS) {
            return;
        }
        lastTick = now;
        if (storeGuard.failing()) {
            guard("recovering the store", storeGuard::recover);
        }
        for (StoredTopicState t : broker.storedTopics()) {
            if (t.retention() != null && t.retention().maxAge() != null) {
                guard("retention of " + t.name(), () -> retainer.enforceAndWake(t, now));
            }
        }
        if (now - lastSweep >= SWEEP_MILLIS) {
            lastSweep = now;
            guard("idempotency key expiry", () -> store.expireIdempotencyKeys(now - idempotencyTtlMillis));
        }
    }
}
