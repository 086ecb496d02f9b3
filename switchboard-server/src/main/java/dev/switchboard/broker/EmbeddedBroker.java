package dev.switchboard.broker;

import dev.switchboard.wire.Durations;
import dev.switchboard.wire.TopicNames;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import dev.switchboard.config.FsyncPolicy;
import dev.switchboard.config.Limits;
import dev.switchboard.config.ServerConfig;
import dev.switchboard.log.LogException;
import dev.switchboard.log.RocksLog;
import dev.switchboard.log.StoredTopic;
import dev.switchboard.log.TailBudget;
import dev.switchboard.log.TailCache;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker on one machine: topics in a RocksDB log on local disk. Publishes go through the {@link CommitLoop}
 * (one writer thread); reads of the newest messages come from each topic's in-memory tail, older ones from the store
 * on a small pool of reader threads. Nothing here runs on, or blocks, an event loop.
 */
public final class EmbeddedBroker implements Broker {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedBroker.class);
    private static final int TAIL_SLOTS = 1024;
    private static final long TAIL_BYTES = 4L * 1024 * 1024;
    private static final int READER_THREADS = 4;
    private static final int READER_QUEUE = 10_000;

    private final Limits limits;
    private final Retention defaultRetention;
    private final RocksLog store;
    private final ConcurrentHashMap<String, Topic> topics = new ConcurrentHashMap<>();
    private final CommitLoop writer;
    private final Thread writerThread;
    private final ThreadPoolExecutor readers;
    private final ScheduledExecutorService fsyncTimer;
    private final TailBudget tailBudget;

    private EmbeddedBroker(ServerConfig config, MeterRegistry metrics) {
        this.limits = config.limits();
        this.defaultRetention = config.defaultRetention();
        this.store = RocksLog.open(config.dataDir().resolve("log"));
        this.tailBudget = new TailBudget(limits.tailCacheBytes());
        long maxId = 0;
        for (StoredTopic st : store.loadTopics()) {
            Topic t = newTopic(st.name());
            t.loaded(st.id(), st.created(), st.firstOffset(), st.lastOffset(), st.bytes(), st.retention());
            topics.put(st.name(), t);
            maxId = Math.max(maxId, st.id());
        }
        this.readers = new ThreadPoolExecutor(READER_THREADS, READER_THREADS, 0, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(READER_QUEUE), Thread.ofPlatform().name("switchboard-log-reader-", 0)
                .daemon(true).factory());
        this.writer = new CommitLoop(this, store, config.fsync(), config.idempotencyTtl(),
                limits.maxPendingPublishes(), maxId + 1, metrics);
        this.writerThread = Thread.ofPlatform().name("switchboard-log-writer").start(writer);
        if (config.fsync() == FsyncPolicy.BATCH) {
            long every = config.fsyncInterval().toMillis();
            fsyncTimer = Executors.newSingleThreadScheduledExecutor(
                    Thread.ofPlatform().name("switchboard-fsync").daemon(true).factory());
            fsyncTimer.scheduleWithFixedDelay(this::syncQuietly, every, every, TimeUnit.MILLISECONDS);
        } else {
            fsyncTimer = null;
        }
        Gauge.builder("switchboard.topics", topics, Map::size).description("Topics known (stored or awaited)")
                .register(metrics);
        Gauge.builder("switchboard.tail.cache", tailBudget, TailBudget::used).baseUnit("bytes")
                .description("Payload bytes of recent messages held in memory for live readers").register(metrics);
        Gauge.builder("switchboard.publish.pending", writer, CommitLoop::pending)
                .description("Publishes waiting for the log writer").register(metrics);
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

    // ---- publish ----

    @Override
    public CompletableFuture<PublishResult> publish(String topic, String type, byte[] payload, String idempotencyKey) {
        TopicNames.validate(topic);
        refuseReserved(topic);
        if (payload.length > limits.maxMessageBytes()) {
            throw new ApiException(ErrorCode.PAYLOAD_TOO_LARGE, "message is " + payload.length + " bytes; the limit is "
                    + limits.maxMessageBytes());
        }
        if (type.length() > 255) {
            throw new ApiException(ErrorCode.INVALID_TYPE, "content type is longer than 255 chars");
        }
        if (idempotencyKey != null && (idempotencyKey.isEmpty()
                || idempotencyKey.length() > limits.maxIdempotencyKeyLength())) {
            throw new ApiException(ErrorCode.INVALID_IDEMPOTENCY_KEY,
                    "Idempotency-Key must be 1-" + limits.maxIdempotencyKeyLength() + " chars");
        }
        if (!topics.containsKey(topic) && topics.size() >= limits.maxTopics()) {
            throw new ApiException(ErrorCode.LIMIT_EXCEEDED, "the server holds " + limits.maxTopics() + " topics, its limit");
        }
        CompletableFuture<PublishResult> done = new CompletableFuture<>();
        if (!writer.offerPublish(topic, type, payload, idempotencyKey, done)) {
            throw ApiException.unavailable("too many publishes waiting for the log; retry shortly");
        }
        return done;
    }

    // ---- polls ----

    @Override
    public CompletableFuture<ReadResult> poll(String name, StartPosition from, int limit, Duration wait,
                                              ScheduledExecutorService timer) {
        TopicNames.validate(name);
        if (limit < 1 || limit > limits.maxPollLimit()) {
            throw new ApiException(ErrorCode.INVALID_LIMIT, "limit must be 1-" + limits.maxPollLimit());
        }
        if (wait.compareTo(limits.maxWait()) > 0) {
            throw new ApiException(ErrorCode.INVALID_DURATION,
                    "wait must be at most " + Durations.format(limits.maxWait()));
        }
        Topic known = topics.get(name);
        if (wait.isZero()) {
            if (known == null || !known.isStored()) {
                throw new ApiException(ErrorCode.TOPIC_NOT_FOUND, "no topic '" + name + "'");
            }
            return readFrom(known, known.resolve(from), limit);
        }
        Topic t = attach(name);
        long start = t.resolve(from);
        CompletableFuture<ReadResult> result = new CompletableFuture<>();
        result.whenComplete((r, e) -> release(t));
        readFrom(t, start, limit).whenComplete((r, e) -> {
            if (e != null) {
                result.completeExceptionally(e);
            } else if (!r.messages().isEmpty() || r.gap()) {
                result.complete(r);
            } else {
                hold(t, start, limit, wait, timer, result);
            }
        });
        return result;
    }

    /** Parks a long poll on the topic until a message at or after {@code start} exists or the wait ends. */
    private void hold(Topic t, long start, int limit, Duration wait, ScheduledExecutorService timer,
                      CompletableFuture<ReadResult> result) {
        Topic.Waiter waiter = new Topic.Waiter() {
            @Override
            public long from() {
                return start;
            }

            @Override
            public void wake() {
                t.removeWaiter(this);
                timer.execute(() -> {
                    if (result.isDone()) {
                        return;
                    }
                    if (t.isDeleted()) {
                        result.completeExceptionally(new ApiException(ErrorCode.TOPIC_NOT_FOUND,
                                "topic '" + t.name() + "' was deleted"));
                        return;
                    }
                    readFrom(t, start, limit).whenComplete((r, e) -> {
                        if (e != null) {
                            result.completeExceptionally(e);
                        } else if (!r.messages().isEmpty() || r.gap()) {
                            result.complete(r);
                        } else {
                            t.addWaiter(this);
                            if (t.lastOffset() >= start) {
                                wake();
                            }
                        }
                    });
                });
            }
        };
        ScheduledFuture<?> timeout = timer.schedule(
                () -> result.complete(new ReadResult(t.name(), List.of(), start, false)),
                wait.toNanos(), TimeUnit.NANOSECONDS);
        result.whenComplete((r, e) -> {
            t.removeWaiter(waiter);
            timeout.cancel(false);
        });
        t.addWaiter(waiter);
        if (t.lastOffset() >= start || t.isDeleted()) {
            waiter.wake();
        }
    }

    /** Messages from {@code start}: from the in-memory tail when it has them, else from the store off this thread. */
    private CompletableFuture<ReadResult> readFrom(Topic t, long start, int limit) {
        long first = t.firstOffset();
        long last = t.lastOffset();
        long begin = Math.max(start, first);
        if (begin > last) {
            return CompletableFuture.completedFuture(new ReadResult(t.name(), List.of(), begin, start < first));
        }
        if (t.cached(begin) != null) {
            List<Message> out = new ArrayList<>();
            long bytes = 0;
            for (long o = begin; o <= last && out.size() < limit && bytes < limits.maxPollResponseBytes(); o++) {
                Message m = t.cached(o);
                if (m == null) {
                    break; // evicted meanwhile: return what we have, the reader continues from next
                }
                out.add(m);
                bytes += m.payload().length;
            }
            return CompletableFuture.completedFuture(resultOf(t, start, out));
        }
        return t.fetch(begin, limit, limits.maxPollResponseBytes()).thenApply(out -> resultOf(t, start, out));
    }

    private static ReadResult resultOf(Topic t, long start, List<Message> out) {
        if (out.isEmpty()) {
            long first = t.firstOffset();
            return new ReadResult(t.name(), out, Math.max(start, first), start < first);
        }
        return new ReadResult(t.name(), out, out.getLast().offset() + 1, out.getFirst().offset() > start);
    }

    private CompletableFuture<List<Message>> readStore(Topic t, long from, int maxCount, long maxBytes) {
        CompletableFuture<List<Message>> f = new CompletableFuture<>();
        try {
            readers.execute(() -> {
                try {
                    f.complete(store.read(t.id(), t.name(), from, maxCount, maxBytes));
                } catch (LogException e) {
                    f.completeExceptionally(ApiException.unavailable("the log could not be read: " + e.getMessage()));
                }
            });
        } catch (RejectedExecutionException e) {
            f.completeExceptionally(ApiException.unavailable("too many reads waiting for the log; retry shortly"));
        }
        return f;
    }

    // ---- push subscribers ----

    @Override
    public Topic attach(String name) {
        TopicNames.validate(name);
        while (true) {
            Topic t = topics.get(name);
            if (t == null) {
                if (topics.size() >= limits.maxTopics()) {
                    throw new ApiException(ErrorCode.LIMIT_EXCEEDED, "the server holds " + limits.maxTopics() + " topics, its limit");
                }
                t = topics.computeIfAbsent(name, this::newTopic);
            }
            synchronized (t) {
                if (!t.unregistered) {
                    t.attached++;
                    return t;
                }
            }
        }
    }

    @Override
    public void release(Topic t) {
        synchronized (t) {
            t.attached--;
            if (t.attached == 0 && t.stagedId == 0 && !t.unregistered) {
                t.unregistered = true;
                topics.remove(t.name(), t);
            }
        }
    }

    // ---- topics ----

    @Override
    public List<TopicInfo> list() {
        return topics.values().stream().filter(t -> t.isStored() && !t.name().startsWith("_")).map(this::info)
                .sorted(Comparator.comparing(TopicInfo::name)).toList();
    }

    @Override
    public Optional<TopicInfo> describe(String name) {
        TopicNames.validate(name);
        Topic t = topics.get(name);
        return t == null || !t.isStored() ? Optional.empty() : Optional.of(info(t));
    }

    @Override
    public CompletableFuture<TopicInfo> setRetention(String name, Retention retention) {
        TopicNames.validate(name);
        refuseReserved(name);
        if (!topics.containsKey(name) && topics.size() >= limits.maxTopics()) {
            throw new ApiException(ErrorCode.LIMIT_EXCEEDED, "the server holds " + limits.maxTopics() + " topics, its limit");
        }
        return onWriter(() -> writer.setRetention(name, retention));
    }

    @Override
    public CompletableFuture<Boolean> delete(String name) {
        TopicNames.validate(name);
        refuseReserved(name);
        return onWriter(() -> writer.delete(name));
    }

    /** Deletes a topic the server keeps for itself (a job's event topic); for the server's own components. */
    public void deleteSystemTopic(String name) {
        onWriter(() -> writer.delete(name));
    }

    /** Topics whose names start with {@code _} belong to the server (job events); clients may read, not write. */
    private static void refuseReserved(String name) {
        if (name.startsWith("_")) {
            throw new ApiException(ErrorCode.RESERVED_TOPIC,
                    "topics starting with '_' are kept by the server (job events); they can be read, not written");
        }
    }

    /** The store, for components that keep their own records in it (jobs). */
    public RocksLog log() {
        return store;
    }

    /**
     * Queues a transaction for the next group commit (see {@link LogTransaction}).
     *
     * @throws ApiException 503 when the writer's queue is full
     */
    public void submit(LogTransaction tx) {
        if (!writer.offer(new CommitLoop.Transaction(tx))) {
            throw ApiException.unavailable("too many changes waiting for the log; retry shortly");
        }
    }

    private <T> CompletableFuture<T> onWriter(java.util.function.Supplier<T> action) {
        CompletableFuture<T> done = new CompletableFuture<>();
        Runnable task = () -> {
            try {
                done.complete(action.get());
            } catch (RuntimeException e) {
                done.completeExceptionally(e);
            }
        };
        if (!writer.offer(new CommitLoop.Admin(task))) {
            throw ApiException.unavailable("too many requests waiting for the log; retry shortly");
        }
        return done;
    }

    TopicInfo info(Topic t) {
        Map<String, Integer> subscribers = new LinkedHashMap<>(t.fanout().countsByTransport());
        int polls = t.waiterCount();
        if (polls > 0) {
            subscribers.put("longpoll", polls);
        }
        long first = t.firstOffset();
        long last = t.lastOffset();
        return new TopicInfo(t.name(), first, last, Math.max(0, last - first + 1), t.bytes(), t.created(),
                t.retention(), subscribers);
    }

    // ---- registry, for the writer ----

    Collection<Topic> topics() {
        return topics.values();
    }

    Topic registered(String name) {
        return topics.get(name);
    }

    Topic registerForWrite(String name) {
        return topics.computeIfAbsent(name, this::newTopic);
    }

    void unregister(Topic t) {
        synchronized (t) {
            t.unregistered = true;
            topics.remove(t.name(), t);
        }
    }

    private Topic newTopic(String name) {
        return new Topic(name, defaultRetention, this::readStore, new TailCache(TAIL_SLOTS, TAIL_BYTES, tailBudget));
    }

    private void syncQuietly() {
        try {
            store.sync();
        } catch (LogException e) {
            log.warn("periodic fsync failed", e);
        }
    }

    @Override
    public void close() {
        writer.stop();
        writerThread.interrupt(); // wakes it from its idle wait; a commit in progress still completes
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
