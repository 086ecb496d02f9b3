package dev.switchboard.broker;

import dev.switchboard.wire.ApiException;
import dev.switchboard.config.FsyncPolicy;
import dev.switchboard.log.LogException;
import dev.switchboard.log.RocksLog;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The single writer of the log. Publishes (and other {@link LogTransaction}s) queue here; the loop takes everything
 * queued at once, assigns offsets,
 * writes it as one atomic batch with at most one fsync (group commit, DESIGN.md principle 5), then makes the new
 * offsets visible, acknowledges the publishers, applies retention and wakes subscribers. One writer means offsets are
 * assigned in one place, in order, with no locks; the event loops only enqueue.
 */
final class CommitLoop implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(CommitLoop.class);
    private static final int MAX_BATCH = 4096;
    private static final long TICK_MILLIS = 1000;
    private static final long SWEEP_MILLIS = 60_000;
    private static final long IDLE_CACHE_MILLIS = 60_000;

    sealed interface Command {}

    /** Staged into the next group commit. */
    record Transaction(LogTransaction tx) implements Command {}

    /** Work that must be ordered with publishes (retention changes, deletion); runs on the writer thread. */
    record Admin(Runnable action) implements Command {}

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

    /** Any thread. False when the queue is full: the caller refuses the request. */
    boolean offer(Command c) {
        return running && queue.offer(c);
    }

    /** Any thread: a plain publish. */
    boolean offerPublish(String topic, String type, byte[] payload, String key, CompletableFuture<PublishResult> done) {
        return offer(new Transaction(new PublishTransaction(topic, type, payload, key, done, replayed)));
    }

    int pending() {
        return queue.size();
    }

    void stop() {
        running = false;
    }

    @Override
    public void run() {
        List<Command> commands = new ArrayList<>();
        while (running) {
            try {
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
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (RuntimeException e) {
                log.error("log writer failed a round; continuing", e);
                commands.clear();
            }
        }
        queue.drainTo(commands);
        ApiException closing = ApiException.unavailable("server is shutting down");
        for (Command c : commands) {
            if (c instanceof Transaction t) {
                t.tx.failed(closing);
            }
        }
    }

    private void process(List<Command> commands) {
        int i = 0;
        while (i < commands.size()) {
            if (commands.get(i) instanceof Admin admin) {
                admin.action.run();
                i++;
                continue;
            }
            int j = i;
            while (j < commands.size() && commands.get(j) instanceof Transaction) {
                j++;
            }
            commit(commands.subList(i, j));
            i = j;
        }
    }

    /** Stages every transaction into one batch, writes it with at most one fsync, then makes it visible. */
    private void commit(List<Command> transactions) {
        StagedBatch stage = new StagedBatch(System.currentTimeMillis());
        List<LogTransaction> accepted = new ArrayList<>(transactions.size());
        try (RocksLog.Batch batch = store.newBatch()) {
            stage.batch = batch;
            for (Command c : transactions) {
                LogTransaction tx = ((Transaction) c).tx;
                try {
                    tx.stage(stage);
                    accepted.add(tx);
                } catch (ApiException e) {
                    tx.failed(e);
                } catch (RuntimeException e) {
                    accepted.add(tx); // it may have staged a part: the whole batch is abandoned below
                    throw e;
                }
            }
            if (!batch.isEmpty()) {
                for (Topic t : stage.touched) {
                    batch.putTopic(t.record());
                }
                long start = System.nanoTime();
                store.write(batch, fsync == FsyncPolicy.ALWAYS);
                writeTime.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
            }
        } catch (RuntimeException e) {
            log.error("group commit of {} transactions failed", accepted.size(), e);
            stage.touched.forEach(Topic::rollback);
            ApiException refused = ApiException.unavailable("the log could not store the change: " + e.getMessage());
            accepted.forEach(tx -> tx.failed(refused));
            return;
        }
        if (!stage.appended.isEmpty()) {
            batchSize.record(stage.appended.size());
            published.increment(stage.appended.size());
        }
        accepted.forEach(LogTransaction::durable);
        for (Message m : stage.appended) {
            Topic t = stage.topicOf.get(m);
            t.committed();
            t.appended(m);
            t.lastAppendMillis = stage.now;
        }
        for (Topic t : stage.touched) {
            if (!t.isStored()) {
                t.committed(); // created by a transaction without messages (a retention set before any publish)
            }
        }
        accepted.forEach(LogTransaction::committed);
        for (Topic t : stage.touched) {
            enforceRetention(t, stage.now);
            t.fanout().signal();
            t.wakeWaiters();
        }
    }

    /** The stage of one group commit: staged messages in order, the topics they touch, idempotency keys seen. */
    private final class StagedBatch implements LogTransaction.Stage {
        private final long now;
        private RocksLog.Batch batch;
        private final List<Message> appended = new ArrayList<>();
        private final Map<Message, Topic> topicOf = new java.util.IdentityHashMap<>();
        private final LinkedHashSet<Topic> touched = new LinkedHashSet<>();
        private final Map<String, Message> keysInBatch = new HashMap<>();

        StagedBatch(long now) {
            this.now = now;
        }

        @Override
        public long now() {
            return now;
        }

        @Override
        public RocksLog.Batch batch() {
            return batch;
        }

        @Override
        public RocksLog store() {
            return store;
        }

        @Override
        public Message append(String topic, String type, byte[] payload) {
            return append(materialize(topic, now), type, payload);
        }

        private Message append(Topic t, String type, byte[] payload) {
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

        /** A publish with an idempotency key: the earlier message with that key, or a newly staged one. */
        PublishResult appendOnce(String topic, String type, byte[] payload, String key) {
            Topic t = materialize(topic, now);
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
    static final class PublishTransaction implements LogTransaction {
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
    private Topic materialize(String name, long now) {
        while (true) {
            Topic t = broker.registerForWrite(name);
            synchronized (t) {
                if (t.unregistered) {
                    continue;
                }
                if (t.stagedId == 0) {
                    t.stage(nextTopicId++, now);
                }
                return t;
            }
        }
    }

    /** Writer thread: replaces a topic's retention, creating it if needed, and applies it. */
    TopicInfo setRetention(String name, Retention retention) {
        long now = System.currentTimeMillis();
        Topic t = materialize(name, now);
        Retention before = t.retention();
        t.retentionChanged(retention);
        try (RocksLog.Batch batch = store.newBatch()) {
            batch.putTopic(t.record());
            store.write(batch, fsync == FsyncPolicy.ALWAYS);
        } catch (LogException e) {
            t.retentionChanged(before);
            throw ApiException.unavailable("the log could not store the retention: " + e.getMessage());
        }
        t.committed();
        enforceRetention(t, now);
        return broker.info(t);
    }

    /** Writer thread: deletes a stored topic and its log. */
    boolean delete(String name) {
        Topic t = broker.registered(name);
        if (t == null || !t.isStored()) {
            return false;
        }
        try (RocksLog.Batch batch = store.newBatch()) {
            batch.deleteTopic(t.id());
            store.write(batch, fsync == FsyncPolicy.ALWAYS);
        } catch (LogException e) {
            throw ApiException.unavailable("the log could not delete the topic: " + e.getMessage());
        }
        broker.unregister(t);
        t.markDeleted();
        t.fanout().signal();
        t.wakeWaiters();
        return true;
    }

    /** Drops the oldest messages beyond the topic's retention, in one batch. */
    private void enforceRetention(Topic t, long now) {
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
    }

    private void tick() {
        long now = System.currentTimeMillis();
        if (now - lastTick < TICK_MILLIS) {
            return;
        }
        lastTick = now;
        for (Topic t : broker.topics()) {
            if (t.retention() != null && t.retention().maxAge() != null) {
                enforceRetention(t, now);
            }
        }
        if (now - lastSweep >= SWEEP_MILLIS) {
            lastSweep = now;
            for (Topic t : broker.topics()) {
                if (now - t.lastAppendMillis > IDLE_CACHE_MILLIS && t.tail().bytes() > 0) {
                    t.tail().clear();
                }
            }
            try {
                store.expireIdempotencyKeys(now - idempotencyTtlMillis);
            } catch (LogException e) {
                log.warn("idempotency key expiry failed; will retry", e);
            }
        }
    }
}
