package dev.switchboard.log;

import dev.switchboard.broker.Message;
import dev.switchboard.broker.PublishResult;
import dev.switchboard.broker.Retention;
import dev.switchboard.broker.TopicState;
import dev.switchboard.broker.TopicWatcher;
import dev.switchboard.broker.Transaction;
import dev.switchboard.config.FsyncPolicy;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The single writer of the log. Publishes (and other {@link Transaction}s) queue here; the loop takes everything
 * queued at once, assigns offsets, writes it as one atomic batch with at most one fsync (group commit), then makes
 * the new offsets readable, tells the topics' watchers, acknowledges the publishers and applies retention. One
 * writer means offsets are assigned in one place, in order, with no locks; the event loops only enqueue.
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
    /** Room the store needs before reopening is worth trying: its WAL and manifest files, with some margin. */
    private static final long MIN_FREE_BYTES_TO_REOPEN = 1024 * 1024;

    sealed interface Command {}

    /** A transaction staged into the next group commit; answered exactly once. */
    static final class Pending implements Command {
        final Transaction tx;
        private boolean answered;

        Pending(Transaction tx) {
            this.tx = tx;
        }
    }

    /** Work that must be ordered with publishes (retention changes, deletion); runs on the writer thread. */
    record Admin<T>(Supplier<T> action, CompletableFuture<T> done) implements Command {}

    private final EmbeddedBroker broker;
    private final RocksLog store;
    private final FsyncPolicy fsync;
    private final long idempotencyTtlMillis;
    private final ArrayBlockingQueue<Command> queue;
    private final Counter published;
    private final Counter replayed;
    private final DistributionSummary batchSize;
    private final Timer writeTime;
    private volatile boolean running = true;
    /** The store's last refusal (disk full, I/O error) until a probe write succeeds again; null while it writes. */
    private volatile LogException storeFailure;
    /** Why the writer thread ended, or null while it runs. */
    private volatile String stopped;
    private long nextTopicId;
    private long lastTick;
    private long lastSweep;

    CommitLoop(EmbeddedBroker broker, RocksLog store, FsyncPolicy fsync, Duration idempotencyTtl, int capacity,
               long nextTopicId, MeterRegistry metrics) {
        this.broker = broker;
        this.store = store;
        this.fsync = fsync;
        this.idempotencyTtlMillis = idempotencyTtl.toMillis();
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.nextTopicId = nextTopicId;
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
        if (!running || !queue.offer(c)) {
            return false;
        }
        // The writer may have stopped and drained the queue for the last time just before this landed: take it back
        // and let the caller refuse it. If it is no longer there, the writer took it and answers it.
        return running || !queue.remove(c);
    }

    /** Any thread: a plain publish. */
    boolean offerPublish(String topic, String type, byte[] payload, String key, CompletableFuture<PublishResult> done) {
        return offer(new Pending(new PublishTransaction(topic, type, payload, key, done, replayed)));
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
        return queue.size();
    }

    void stop() {
        running = false;
    }

    Optional<String> unhealthy() {
        if (stopped != null) {
            return Optional.of("the log writer has stopped: " + stopped);
        }
        LogException failure = storeFailure;
        return failure == null ? Optional.empty() : Optional.of("the log cannot store changes: " + failure.reason());
    }

    @Override
    public void run() {
        List<Command> commands = new ArrayList<>();
        try {
            while (running) {
                Command first = queue.poll(TICK_MILLIS, TimeUnit.MILLISECONDS);
                if (first != null) {
                    commands.add(first);
                    queue.drainTo(commands, MAX_BATCH - 1);
                    // An fsync per commit makes each one dear: let runnable event loops enqueue what they have read
                    // first (on a busy core this doubled the batch and the acks per second; idle, it costs nothing).
                    if (fsync == FsyncPolicy.ALWAYS && commands.size() < MAX_BATCH) {
                        Thread.yield();
                        queue.drainTo(commands, MAX_BATCH - commands.size());
                    }
                    process(commands);
                    commands.clear();
                }
                tick();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable e) {
            // An Error (or a bug that escaped every guard below): nothing this thread does can be trusted now.
            log.error("the log writer stopped", e);
            stopped = e.getClass().getSimpleName();
            running = false;
        }
        running = false; // however the loop ended: later offers are refused, not queued for no one
        queue.drainTo(commands);
        ApiException closing = refusal("");
        for (Command c : commands) {
            switch (c) {
                case Pending p -> answerFailed(p, closing);
                case Admin<?> a -> a.done().completeExceptionally(closing);
            }
        }
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
            admin.done().completeExceptionally(storeFailed(e));
        } catch (RuntimeException e) {
            log.error("an admin change failed", e);
            admin.done().completeExceptionally(new ApiException(ErrorCode.INTERNAL, "the change failed"));
        }
    }

    /** Stages every transaction into one batch, writes it with at most one fsync, then makes it visible. */
    private void commit(List<Command> pending) {
        StagedBatch stage = new StagedBatch(System.currentTimeMillis());
        List<Pending> accepted = new ArrayList<>(pending.size());
        try (RocksLog.Batch batch = store.newBatch()) {
            stage.batch = batch;
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
                write(batch);
                writeTime.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
            }
        } catch (LogException e) {
            ApiException refused = storeFailed(e);
            abandon(stage, accepted, null, refused, refused);
            return;
        }
        publish(stage, accepted);
    }

    /** The batch is not in the log: roll back what it staged and answer every transaction in it. */
    private void abandon(StagedBatch stage, List<? extends Command> all, Pending culprit, ApiException culpritError,
                         ApiException othersError) {
        for (StoredTopicState t : stage.touched) {
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
    private void publish(StagedBatch stage, List<Pending> accepted) {
        if (!stage.appended.isEmpty()) {
            batchSize.record(stage.appended.size());
            published.increment(stage.appended.size());
        }
        for (Pending p : accepted) {
            guard("a transaction's durable hook", p.tx::durable);
        }
        for (StoredTopicState t : stage.touched) {
            if (!stage.dropped.contains(t)) {
                t.committed();
            }
        }
        // Deleted topics are gone, and topics created again after their deletion in this commit are there, before
        // anyone hears of the commit: a transaction is answered once its changes are readable.
        for (StoredTopicState t : stage.dropped) {
            boolean existed = t.isStored();
            broker.unregister(t);
            if (existed) {
                tellDeleted(t.name());
            }
        }
        stage.recreated.values().forEach(broker::replace);
        for (Message m : stage.appended) {
            StoredTopicState t = stage.topicOf.get(m);
            if (stage.dropped.contains(t)) {
                continue; // deleted later in the same commit: never readable
            }
            t.appended(m);
            List<TopicWatcher> ws = broker.watchersOf(t.name());
            if (ws != null) {
                for (TopicWatcher w : ws) {
                    guard("a watcher", () -> w.appended(m));
                }
            }
        }
        for (Pending p : accepted) {
            answerCommitted(p);
        }
        for (StoredTopicState t : stage.touched) {
            if (stage.dropped.contains(t)) {
                continue;
            }
            guard("retention of " + t.name(), () -> enforceRetention(t, stage.now));
            List<TopicWatcher> ws = broker.watchersOf(t.name());
            if (ws != null) {
                for (TopicWatcher w : ws) {
                    guard("a watcher", w::committed);
                }
            }
        }
    }

    /** Writes a batch, or refuses at once while the store is failing: {@link #recoverStore} finds out when it heals. */
    private void write(RocksLog.Batch batch) {
        LogException failure = storeFailure;
        if (failure != null) {
            throw failure;
        }
        store.write(batch, fsync == FsyncPolicy.ALWAYS);
    }

    /** The answer to a change the store refused; the full cause goes to the server's log, not to the client. */
    private ApiException storeFailed(LogException e) {
        if (e != storeFailure) {
            log.error("the log could not store a change; refusing changes until it can", e);
            storeFailure = e;
        }
        return ApiException.unavailable("the log could not store the change (" + e.reason() + "); retry later");
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

    /** The stage of one group commit: staged messages in order, the topics they touch, records and keys seen. */
    private final class StagedBatch implements Transaction.Stage {
        private final long now;
        private RocksLog.Batch batch;
        private final List<Message> appended = new ArrayList<>();
        private final Map<Message, StoredTopicState> topicOf = new IdentityHashMap<>();
        private final LinkedHashSet<StoredTopicState> touched = new LinkedHashSet<>();
        private final Map<String, Message> keysInBatch = new HashMap<>();
        /** Records staged here, a null value for a deletion. */
        private final Map<String, byte[]> records = new HashMap<>();
        /** Topics this commit deletes (stored ones, and ones it created itself), in order. */
        private final LinkedHashSet<StoredTopicState> dropped = new LinkedHashSet<>();
        private final Set<String> deletedNames = new HashSet<>();
        /** Topics created again after their deletion in this commit: registered once it is written. */
        private final Map<String, StoredTopicState> recreated = new HashMap<>();

        StagedBatch(long now) {
            this.now = now;
        }

        @Override
        public long now() {
            return now;
        }

        @Override
        public Message append(String topic, String type, byte[] payload) {
            return append(current(topic), type, payload);
        }

        /**
         * The topic a change staged now goes to: the registered one, or, once this commit has deleted it, a new
         * topic of the same name with its own identity (changes are staged in submission order).
         */
        private StoredTopicState current(String name) {
            StoredTopicState t = recreated.get(name);
            if (t != null) {
                return t;
            }
            if (!deletedNames.contains(name)) {
                return materialize(name, now);
            }
            t = broker.newTopicState(name);
            t.stage(nextTopicId++, now);
            recreated.put(name, t);
            return t;
        }

        private Message append(StoredTopicState t, String type, byte[] payload) {
            long offset = ++t.stagedLast;
            long time = Math.max(now, t.lastTime);
            t.lastTime = time;
            t.stagedBytes += payload.length;
            batch.putMessage(t.stagedId, offset, time, type, payload);
            Message m = new Message(t.name(), offset, time, type, payload);
            appended.add(m);
            topicOf.put(m, t);
            touched.add(t);
            return m;
        }

        @Override
        public void putRecord(String key, byte[] value) {
            batch.putRecord(key, value);
            records.put(key, value);
        }

        @Override
        public void deleteRecord(String key) {
            batch.deleteRecord(key);
            records.put(key, null);
        }

        @Override
        public byte[] record(String key) {
            return records.containsKey(key) ? records.get(key) : store.getRecord(key);
        }

        @Override
        public void deleteTopic(String topic) {
            StoredTopicState t = recreated.remove(topic);
            if (t == null && !deletedNames.contains(topic)) {
                t = broker.registered(topic);
            }
            // A stored topic, or one this commit created: either way its messages so far go with it.
            if (t != null && (t.isStored() || touched.contains(t))) {
                batch.deleteTopic(t.stagedId);
                dropped.add(t);
                deletedNames.add(topic);
            }
        }

        /** A publish with an idempotency key: the earlier message with that key, or a newly staged one. */
        PublishResult appendOnce(String topic, String type, byte[] payload, String key) {
            StoredTopicState t = current(topic);
            String batchKey = t.stagedId + "/" + key;
            Message earlier = keysInBatch.get(batchKey);
            if (earlier != null) {
                return new PublishResult(t.name(), earlier.offset(), earlier.time(), true);
            }
            long[] hit = store.idempotencyHit(t.stagedId, key);
            if (hit != null && hit[1] >= now - idempotencyTtlMillis) {
                return new PublishResult(t.name(), hit[0], hit[1], true);
            }
            Message m = append(t, type, payload);
            batch.putIdempotencyKey(t.stagedId, key, m.offset(), m.time());
            keysInBatch.put(batchKey, m);
            return new PublishResult(t.name(), m.offset(), m.time(), false);
        }
    }

    /** A plain publish, the hot path: one staged message, acknowledged after the commit. */
    private static final class PublishTransaction implements Transaction {
        private final String topic;
        private final String type;
        private final byte[] payload;
        private final String key;
        private final CompletableFuture<PublishResult> done;
        private final Counter replayed;
        private PublishResult result;

        PublishTransaction(String topic, String type, byte[] payload, String key,
                           CompletableFuture<PublishResult> done, Counter replayed) {
            this.topic = topic;
            this.type = type;
            this.payload = payload;
            this.key = key;
            this.done = done;
            this.replayed = replayed;
        }

        @Override
        public void stage(Stage stage) {
            if (key != null) {
                result = ((StagedBatch) stage).appendOnce(topic, type, payload, key);
            } else {
                Message m = stage.append(topic, type, payload);
                result = new PublishResult(m.topic(), m.offset(), m.time(), false);
            }
        }

        @Override
        public void committed() {
            if (result.replayed()) {
                replayed.increment();
            }
            done.complete(result);
        }

        @Override
        public void failed(ApiException error) {
            done.completeExceptionally(error);
        }
    }

    /** The registered topic of that name, given an identity if it is new. */
    private StoredTopicState materialize(String name, long now) {
        StoredTopicState t = broker.registerForWrite(name);
        if (t.stagedId == 0) {
            t.stage(nextTopicId++, now);
        }
        return t;
    }

    /**
     * Writer thread: replaces a topic's retention, creating it if needed, and applies it. Readers see the new
     * retention once it is stored; if storing it fails in any way, nothing of it remains.
     */
    TopicState setRetention(String name, Retention retention) {
        long now = System.currentTimeMillis();
        StoredTopicState t = materialize(name, now);
        try (RocksLog.Batch batch = store.newBatch()) {
            batch.putTopic(t.record().withRetention(retention));
            write(batch);
        } catch (RuntimeException e) {
            t.rollback();
            if (!t.isStored()) {
                broker.unregister(t);
            }
            throw e;
        }
        t.retentionChanged(retention);
        t.committed();
        guard("retention of " + name, () -> enforceRetentionAndWake(t, now));
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
            write(batch);
        }
        broker.unregister(t);
        tellDeleted(name);
        return true;
    }

    private void tellDeleted(String name) {
        List<TopicWatcher> ws = broker.dropWatchers(name);
        if (ws != null) {
            for (TopicWatcher w : ws) {
                guard("a watcher", w::deleted);
            }
        }
    }

    /** Drops the oldest messages beyond the topic's retention, in one batch. */
    private void enforceRetention(StoredTopicState t, long now) {
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
        List<TopicWatcher> ws = broker.watchersOf(t.name());
        if (ws != null) {
            for (TopicWatcher w : ws) {
                guard("a watcher", () -> w.truncated(state[0]));
            }
        }
    }

    /** Retention outside a commit: a truncation is a change of its own, ended by {@code committed} like a commit. */
    private void enforceRetentionAndWake(StoredTopicState t, long now) {
        long firstBefore = t.firstOffset();
        enforceRetention(t, now);
        if (t.firstOffset() != firstBefore) {
            List<TopicWatcher> ws = broker.watchersOf(t.name());
            if (ws != null) {
                ws.forEach(w -> guard("a watcher", w::committed));
            }
        }
    }

    /** Periodic work between commits: age retention, key expiry, and probing a store that refused writes. */
    private void tick() {
        long now = System.currentTimeMillis();
        if (now - lastTick < TICK_MILLIS) {
            return;
        }
        lastTick = now;
        if (storeFailure != null) {
            guard("recovering the store", this::recoverStore);
        }
        for (StoredTopicState t : broker.storedTopics()) {
            if (t.retention() != null && t.retention().maxAge() != null) {
                guard("retention of " + t.name(), () -> enforceRetentionAndWake(t, now));
            }
        }
        if (now - lastSweep >= SWEEP_MILLIS) {
            lastSweep = now;
            guard("idempotency key expiry", () -> store.expireIdempotencyKeys(now - idempotencyTtlMillis));
        }
    }

    /**
     * A store that refused a write may take writes again (space freed, a transient error): find out without waiting
     * for a client. RocksDB stays in its error state after a failed write, so once there is room again it is reopened,
     * and the topics' positions are read back in case the failed write reached the disk after all.
     */
    private void recoverStore() {
        if (probeWrite()) {
            return;
        }
        if (store.usableSpace() < MIN_FREE_BYTES_TO_REOPEN) {
            return;
        }
        try {
            store.reopen();
            for (StoredTopic st : store.loadTopics()) {
                StoredTopicState t = broker.registered(st.name());
                if (t != null && t.lastOffset() != st.lastOffset()) {
                    log.warn("topic {} is at offset {} in the reopened log, {} in memory", st.name(), st.lastOffset(),
                            t.lastOffset());
                    t.loaded(st);
                }
            }
        } catch (LogException e) {
            log.warn("reopening the log failed: {}", e.reason());
            return;
        }
        probeWrite();
    }

    private boolean probeWrite() {
        try (RocksLog.Batch batch = store.newBatch()) {
            batch.putRecord("s/probe", Long.toString(System.currentTimeMillis()).getBytes(StandardCharsets.US_ASCII));
            store.write(batch, true);
        } catch (LogException e) {
            log.debug("the log still refuses writes: {}", e.reason());
            return false;
        }
        log.info("the log stores changes again");
        storeFailure = null;
        return true;
    }

    /** The {@code batch} fsync policy's timer: fsyncs everything written so far. */
    void syncQuietly() {
        if (storeFailure != null) {
            return; // the writer's probe finds out when the store works again
        }
        try {
            store.sync();
        } catch (LogException e) {
            log.warn("periodic fsync failed", e);
        }
    }
}
