package dev.switchboard.log;

import dev.switchboard.broker.AppendRules;
import dev.switchboard.broker.BatchResult;
import dev.switchboard.broker.Broker;
import dev.switchboard.broker.Message;
import dev.switchboard.broker.PublishResult;
import dev.switchboard.broker.Retention;
import dev.switchboard.broker.TopicState;
import dev.switchboard.broker.TopicWatcher;
import dev.switchboard.broker.Transaction;
import dev.switchboard.config.FsyncPolicy;
import dev.switchboard.config.Limits;
import dev.switchboard.config.ServerConfig;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import dev.switchboard.wire.TopicNames;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine on one machine: topics in a RocksDB log on local disk. Every change goes through the {@link CommitLoop}
 * (one writer thread, group commit); reads run on a small pool of reader threads. Nothing here runs on, or blocks,
 * an event loop.
 */
public final class EmbeddedBroker implements Broker {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedBroker.class);
    private static final int READER_THREADS = 4;
    private static final int READER_QUEUE = 10_000;

    private final Limits limits;
    private final AppendRules rules;
    private final Retention defaultRetention;
    private final RocksLog store;
    private final ConcurrentHashMap<String, StoredTopicState> topics = new ConcurrentHashMap<>();
    private final TopicWatchers watchers = new TopicWatchers();
    private final CommitLoop writer;
    private final Thread writerThread;
    private final ThreadPoolExecutor readers;
    private final ScheduledExecutorService fsyncTimer;
    /** Writer-only: the identity of the next topic created. */
    private long nextTopicId;
    private final AtomicBoolean closed = new AtomicBoolean();

    private EmbeddedBroker(ServerConfig config, MeterRegistry metrics) {
        this.limits = config.limits();
        this.rules = new AppendRules(limits.maxMessageBytes(), limits.maxBatchMessages(),
                limits.maxIdempotencyKeyLength());
        this.defaultRetention = config.defaultRetention();
        this.store = RocksLog.open(config.dataDir().resolve("log"));
        long maxId = 0;
        for (StoredTopic st : store.loadTopics()) {
            StoredTopicState t = new StoredTopicState(st.name(), st.retention());
            t.loaded(st);
            topics.put(st.name(), t);
            maxId = Math.max(maxId, st.id());
        }
        this.readers = new ThreadPoolExecutor(READER_THREADS, READER_THREADS, 0, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(READER_QUEUE), Thread.ofPlatform().name("switchboard-log-reader-", 0)
                .daemon(true).factory());
        this.nextTopicId = maxId + 1;
        StoreGuard storeGuard = new StoreGuard(store, this, config.fsync() == FsyncPolicy.ALWAYS, metrics);
        this.writer = new CommitLoop(this, store, storeGuard, watchers, config.fsync(), config.idempotencyTtl(),
                limits.maxPendingPublishes(), metrics);
        this.writerThread = Thread.ofPlatform().name("switchboard-log-writer").start(writer);
        if (config.fsync() == FsyncPolicy.BATCH) {
            long every = config.fsyncInterval().toMillis();
            fsyncTimer = Executors.newSingleThreadScheduledExecutor(
                    Thread.ofPlatform().name("switchboard-fsync").daemon(true).factory());
            fsyncTimer.scheduleWithFixedDelay(storeGuard::syncQuietly, every, every, TimeUnit.MILLISECONDS);
        } else {
            fsyncTimer = null;
        }
        Gauge.builder("switchboard.topics", topics, Map::size).description("Topics stored").register(metrics);
        Gauge.builder("switchboard.publish.pending", writer, CommitLoop::pending)
                .description("Changes waiting for the log writer").register(metrics);
        for (FsyncPolicy p : FsyncPolicy.values()) {
            Gauge.builder("switchboard.log.fsync.policy", () -> p == config.fsync() ? 1 : 0)
                    .tag("policy", p.name().toLowerCase()).description("The configured fsync policy (1 = active)")
                    .register(metrics);
        }
        log.info("log open in {}: {} topics, fsync={}", config.dataDir(), topics.size(), config.fsync());
    }

    public static EmbeddedBroker open(ServerConfig config, MeterRegistry metrics) {
        return new EmbeddedBroker(config, metrics);
    }

    // ---- writes ----

    @Override
    public CompletableFuture<PublishResult> append(String topic, String type, byte[] payload,
                                                   Map<String, List<String>> headers, String idempotencyKey) {
        rules.check(topic, type, payload, headers, idempotencyKey);
        refuseNewTopicOverLimit(topic);
        CompletableFuture<PublishResult> done = new CompletableFuture<>();
        if (!writer.offerPublish(topic, type, payload, headers, idempotencyKey, done)) {
            throw writer.refusal("too many publishes waiting for the log; retry shortly");
        }
        return done;
    }

    @Override
    public CompletableFuture<BatchResult> appendBatch(String topic, String type, List<byte[]> payloads,
                                                      Map<String, List<String>> headers, String idempotencyKey) {
        rules.checkBatch(topic, type, payloads, headers, idempotencyKey);
        refuseNewTopicOverLimit(topic);
        CompletableFuture<BatchResult> done = new CompletableFuture<>();
        // A copy: the writer stages it later, on its own thread, whatever the caller does with its list meanwhile.
        if (!writer.offerBatch(topic, type, List.copyOf(payloads), headers, idempotencyKey, done)) {
            throw writer.refusal("too many publishes waiting for the log; retry shortly");
        }
        return done;
    }

    @Override
    public void submit(Transaction tx) {
        if (!writer.offer(new CommitLoop.Pending(tx))) {
            throw writer.refusal("too many changes waiting for the log; retry shortly");
        }
    }

    @Override
    public CompletableFuture<TopicState> setRetention(String name, Retention retention) {
        AppendRules.writableTopic(name);
        refuseNewTopicOverLimit(name);
        return onWriter(() -> writer.setRetention(name, retention));
    }

    @Override
    public CompletableFuture<Boolean> delete(String name) {
        AppendRules.writableTopic(name);
        return onWriter(() -> writer.delete(name));
    }

    private void refuseNewTopicOverLimit(String topic) {
        if (!topics.containsKey(topic) && topics.size() >= limits.maxTopics()) {
            throw new ApiException(ErrorCode.LIMIT_EXCEEDED, "the server holds " + limits.maxTopics()
                    + " topics, its limit");
        }
    }

    private <T> CompletableFuture<T> onWriter(Supplier<T> action) {
        CompletableFuture<T> done = new CompletableFuture<>();
        if (!writer.offer(new CommitLoop.Admin(action, done))) {
            throw writer.refusal("too many requests waiting for the log; retry shortly");
        }
        return done;
    }

    // ---- reads ----

    @Override
    public CompletableFuture<List<Message>> read(String topic, long from, int maxCount, long maxBytes) {
        StoredTopicState t = topics.get(topic);
        if (t == null || !t.isStored()) {
            return CompletableFuture.completedFuture(List.of());
        }
        long id = t.id();
        long last = t.lastOffset();
        return offWriter(() -> store.read(id, topic, from, last, maxCount, maxBytes));
    }

    @Override
    public Optional<TopicState> state(String topic) {
        StoredTopicState t = topics.get(topic);
        return t == null || !t.isStored() ? Optional.empty() : Optional.of(t.state());
    }

    @Override
    public List<TopicState> topics() {
        return topics.values().stream().filter(StoredTopicState::isStored).map(StoredTopicState::state)
                .sorted(Comparator.comparing(TopicState::name)).toList();
    }

    @Override
    public int topicCount() {
        return topics.size();
    }

    @Override
    public CompletableFuture<byte[]> record(String key) {
        return offWriter(() -> store.getRecord(key));
    }

    @Override
    public List<Record> recordsWithPrefix(String prefix) {
        return store.recordsWithPrefix(prefix);
    }

    private <T> CompletableFuture<T> offWriter(Callable<T> read) {
        CompletableFuture<T> f = new CompletableFuture<>();
        try {
            readers.execute(() -> {
                try {
                    f.complete(read.call());
                } catch (LogException e) {
                    log.warn("log read failed", e);
                    f.completeExceptionally(ApiException.unavailable("the log could not be read (" + e.reason()
                            + "); retry shortly"));
                } catch (Exception | Error e) {
                    f.completeExceptionally(e);
                }
            });
        } catch (RejectedExecutionException e) {
            f.completeExceptionally(ApiException.unavailable("too many reads waiting for the log; retry shortly"));
        }
        return f;
    }

    // ---- watchers ----

    @Override
    public Watch watch(String topic, TopicWatcher watcher) {
        TopicNames.validate(topic);
        return watchers.add(topic, watcher);
    }

    @Override
    public Watch watchCreations(Consumer<String> listener) {
        return watchers.addCreations(listener);
    }

    // ---- registry, for the writer ----

    Collection<StoredTopicState> storedTopics() {
        return topics.values();
    }

    StoredTopicState registered(String name) {
        return topics.get(name);
    }

    /** The registered topic of that name, given an identity if it is new. */
    StoredTopicState registerForWrite(String name, long now) {
        StoredTopicState t = topics.get(name);
        if (t == null) { // the creating lambda captures this broker: not made for every message to a known topic
            t = topics.computeIfAbsent(name, n -> new StoredTopicState(n, defaultRetention));
        }
        if (t.stagedId == 0) {
            t.stage(nextTopicId++, now);
        }
        return t;
    }

    /** A new topic of a name that a commit being staged has just deleted; registered once that commit is written. */
    StoredTopicState createAgain(String name, long now) {
        StoredTopicState t = new StoredTopicState(name, defaultRetention);
        t.stage(nextTopicId++, now);
        return t;
    }

    /** Registers a topic created again in the commit that deleted it, once that commit is written. */
    void replace(StoredTopicState t) {
        topics.put(t.name(), t);
    }

    void unregister(StoredTopicState t) {
        topics.remove(t.name(), t);
    }

    // ---- health ----

    @Override
    public Optional<String> unhealthy() {
        return writer.unhealthy();
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        writer.stop(); // wakes it from its idle wait; a commit in progress still completes
        try {
            writerThread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (fsyncTimer != null) {
            fsyncTimer.shutdownNow();
        }
        readers.shutdown();
        try {
            readers.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        store.close();
    }
}
