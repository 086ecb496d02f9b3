package dev.switchboard.engine.redis;

import dev.switchboard.broker.BatchResult;
import dev.switchboard.broker.Broker;
import dev.switchboard.broker.GroupLedger;
import dev.switchboard.broker.JobLedger;
import dev.switchboard.broker.LiveExchange;
import dev.switchboard.broker.Message;
import dev.switchboard.broker.PublishResult;
import dev.switchboard.broker.Retention;
import dev.switchboard.broker.TopicState;
import dev.switchboard.broker.TopicWatcher;
import dev.switchboard.broker.Transaction;
import dev.switchboard.config.Limits;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.TopicNames;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions.RefreshTrigger;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.RedisClusterURIUtil;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine on Redis: every node of a cluster of Switchboard servers opens one on the same Redis, and they behave as
 * one server. Offsets, idempotency keys, retention and transactions are Lua scripts ({@link RedisScripts}), so Redis
 * orders every change whichever node makes it; watchers are woken through sharded pub/sub ({@link RedisWatchers}),
 * subscribed only for topics this node has watchers of.
 *
 * <p>Threads: changes are issued in submission order by one writer thread (a transaction's stage reads records on
 * it), on one connection, so Redis runs them in that order; answers are completed on one answer thread, never on
 * Lettuce's event loop (a caller that calls back into the engine from there would wait on the loop it blocks).
 * Reads go to Redis directly. While Redis is unreachable every call fails at once with {@code unavailable} and
 * Lettuce reconnects by itself. The parts: {@link RedisChanges} (what each change runs), {@link RedisWriter} (the
 * writer thread and its order), {@link RedisReads}, {@link RedisHealth} (PING, reconnects, age retention).
 *
 * <p>On Redis Cluster ({@code redis-cluster://}) the same code runs through Lettuce's cluster client: each script
 * stays in one hash slot and goes to that slot's master (one connection per master, so a topic's changes keep their
 * order), and a transaction that would span slots is refused (docs/cluster.md, "Redis Cluster").
 */
public final class RedisBroker implements Broker {
    private static final Logger log = LoggerFactory.getLogger(RedisBroker.class);
    static final RedisCodec<String, byte[]> CODEC = RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE);
    static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(5);
    /** What names a Redis Cluster's seed nodes: {@code redis-cluster://}, {@code rediss-cluster://}. */
    private static final String CLUSTER_SCHEME = "-cluster://";
    /** Tries to subscribe again to a channel Redis unsubscribed, {@link #RESUBSCRIBE_DELAY_MILLIS} apart. */
    private static final int RESUBSCRIBE_ATTEMPTS = 100;
    private static final long RESUBSCRIBE_DELAY_MILLIS = 100;

    final RedisKeys keys;
    private final String where;
    final Retention defaultRetention;
    final RedisScripts scripts = new RedisScripts();
    private final ClientResources resources;
    /** A {@link RedisClient}, or a {@link RedisClusterClient} on Redis Cluster. */
    private final AbstractRedisClient client;
    /** On Redis Cluster every script and transaction must stay in one hash slot. */
    final boolean cluster;
    private final StatefulConnection<String, byte[]> connection;
    final RedisClusterAsyncCommands<String, byte[]> redis;
    private final RedisHealth health;
    final RedisReads reads;
    private final RedisWatchers watchers;
    final RedisWriter writer;
    private final RedisChanges changes;
    final ExecutorService answers;
    final ScheduledExecutorService timer;
    /** Created on first use: a node that never serves jobs subscribes to nothing for them. */
    private RedisJobLedger jobs;
    private RedisGroupLedger groups;
    /** Created on first use, like jobs: a node without a NATS port keeps nothing for live messages. */
    private RedisLive live;
    private final MeterRegistry metrics;
    private final AtomicBoolean closing = new AtomicBoolean();
    private volatile boolean closed;

    private RedisBroker(String uri, String keyPrefix, int waitReplicas, Limits limits, Retention defaultRetention,
                        Duration idempotencyTtl, MeterRegistry metrics) {
        this.keys = new RedisKeys(keyPrefix);
        this.metrics = metrics;
        this.defaultRetention = defaultRetention;
        this.cluster = uri.contains(CLUSTER_SCHEME);
        if (cluster && waitReplicas > 0) {
            throw new IllegalArgumentException("--redis-wait-replicas is not supported with Redis Cluster: WAIT "
                    + "covers one node's replicas, and a cluster's changes go to every master");
        }
        // Back within a second of Redis: Lettuce's default backoff grows to 30 s between attempts.
        this.resources = DefaultClientResources.builder().reconnectDelay(Delay.exponential(Duration.ofMillis(20),
                Duration.ofSeconds(1), 2, TimeUnit.MILLISECONDS)).build();
        if (cluster) {
            // Lettuce names a cluster's seed nodes redis://h1:p1,h2:p2; redis-cluster:// says which client to use.
            List<RedisURI> seeds = RedisClusterURIUtil.toRedisURIs(URI.create(uri.replace(CLUSTER_SCHEME, "://")));
            seeds.forEach(s -> s.setTimeout(COMMAND_TIMEOUT));
            this.where = seeds.toString();
            RedisClusterClient clusterClient = RedisClusterClient.create(resources, seeds);
            clusterClient.setOptions(ClusterClientOptions.builder().autoReconnect(true)
                    // Lettuce opens a node's connection on first use: commands sent meanwhile must wait for it,
                    // so a node that is away delays them up to the command timeout rather than refusing at once.
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.ACCEPT_COMMANDS)
                    .timeoutOptions(TimeoutOptions.enabled(COMMAND_TIMEOUT))
                    // A slot that moved (MOVED, ASK) or a node that keeps failing reloads the slot map at once.
                    .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder().enableAdaptiveRefreshTrigger(
                            RefreshTrigger.MOVED_REDIRECT, RefreshTrigger.ASK_REDIRECT,
                            RefreshTrigger.PERSISTENT_RECONNECTS, RefreshTrigger.UNCOVERED_SLOT,
                            RefreshTrigger.UNKNOWN_NODE).build()).build());
            this.client = clusterClient;
        } else {
            RedisURI redisUri = RedisURI.create(uri);
            this.where = redisUri.toString(); // without credentials, for logs and /readyz
            redisUri.setTimeout(COMMAND_TIMEOUT);
            RedisClient single = RedisClient.create(resources, redisUri);
            single.setOptions(ClientOptions.builder().autoReconnect(true)
                    // Fail fast while Redis is away: callers get a 503 at once rather than a queue that grows.
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                    .timeoutOptions(TimeoutOptions.enabled(COMMAND_TIMEOUT)).build());
            this.client = single;
        }
        RedisClusterCommands<String, byte[]> blocking;
        try {
            if (client instanceof RedisClusterClient c) {
                StatefulRedisClusterConnection<String, byte[]> clustered = c.connect(CODEC);
                this.connection = clustered;
                this.redis = clustered.async();
                blocking = clustered.sync();
            } else {
                StatefulRedisConnection<String, byte[]> single = ((RedisClient) client).connect(CODEC);
                this.connection = single;
                this.redis = single.async();
                blocking = single.sync();
            }
        } catch (RedisException e) {
            client.shutdown();
            resources.shutdown();
            throw new IllegalStateException("cannot connect to Redis at " + where + ": " + e.getMessage(), e);
        }
        try {
            scripts.loadAll(blocking);
        } catch (RedisException e) {
            connection.close();
            client.shutdown();
            resources.shutdown();
            throw new IllegalStateException("cannot load the engine's scripts into Redis at " + where + ": "
                    + e.getMessage(), e);
        }
        this.health = new RedisHealth(this, client, connection, where, metrics);
        this.answers = Executors.newSingleThreadExecutor(Thread.ofPlatform().name("switchboard-redis-answers")
                .daemon(true).factory());
        this.reads = new RedisReads(this);
        this.watchers = new RedisWatchers(connectPubSub(), keys, this);
        this.writer = new RedisWriter(redis, answers, waitReplicas, limits.maxPendingPublishes(), metrics);
        this.changes = new RedisChanges(this, blocking, limits, idempotencyTtl);
        this.timer = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("switchboard-redis-timer")
                .daemon(true).factory());
        timer.scheduleWithFixedDelay(health::pingAndAge, 0, RedisHealth.PING_MILLIS, TimeUnit.MILLISECONDS);
        Gauge.builder("switchboard.topics", this, b -> b.unhealthy().isPresent() ? Double.NaN : b.topicCount())
                .description("Topics stored").register(metrics);
        log.info("engine: Redis at {}", where);
    }

    /**
     * Subscribes again to a shard channel that Redis unsubscribed, while it is still {@code wanted}: on Redis Cluster
     * a master that hands a slot to another unsubscribes the slot's channels itself, and a subscription reaches the
     * new master once the slot map is reloaded (the first {@code MOVED} does it), so it is retried until then.
     */
    void subscribeAgain(StatefulRedisPubSubConnection<String, byte[]> pubsub, String channel, BooleanSupplier wanted) {
        subscribeAgain(pubsub, channel, wanted, 1);
    }

    private void subscribeAgain(StatefulRedisPubSubConnection<String, byte[]> pubsub, String channel,
                                BooleanSupplier wanted, int attempt) {
        if (closed || !wanted.getAsBoolean()) {
            return;
        }
        pubsub.async().ssubscribe(channel).whenComplete((ok, failure) -> {
            if (failure == null) {
                return;
            }
            if (attempt >= RESUBSCRIBE_ATTEMPTS) {
                log.warn("channel {} could not be subscribed again after its slot moved: {}", channel,
                        failure.getMessage());
                return;
            }
            try {
                timer.schedule(() -> subscribeAgain(pubsub, channel, wanted, attempt + 1), RESUBSCRIBE_DELAY_MILLIS,
                        TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
                log.debug("engine closed while subscribing again to {}", channel);
            }
        });
    }

    /** A pub/sub connection (on a cluster, one that reaches each shard channel's node by its slot). */
    StatefulRedisPubSubConnection<String, byte[]> connectPubSub() {
        return client instanceof RedisClusterClient c ? c.connectPubSub(CODEC)
                : ((RedisClient) client).connectPubSub(CODEC);
    }

    /**
     * Opens the engine on the Redis named by a Lettuce URI ({@code redis://host:port},
     * {@code redis-sentinel://h1:26379,h2:26379#master}), or on a Redis Cluster
     * ({@code redis-cluster://h1:p1,h2:p2}, seed nodes); every key starts with {@code keyPrefix}. With
     * {@code waitReplicas > 0} a change is acknowledged only once that many replicas hold it ({@code WAIT}).
     */
    public static RedisBroker open(String uri, String keyPrefix, int waitReplicas, Limits limits,
                                   Retention defaultRetention, Duration idempotencyTtl, MeterRegistry metrics) {
        return new RedisBroker(uri, keyPrefix, waitReplicas, limits, defaultRetention, idempotencyTtl, metrics);
    }

    // ---- changes: issued in order by one writer ----

    @Override
    public CompletableFuture<PublishResult> append(String topic, String type, byte[] payload,
                                                   Map<String, List<String>> headers, String idempotencyKey) {
        return changes.append(topic, type, payload, headers, idempotencyKey);
    }

    @Override
    public CompletableFuture<BatchResult> appendBatch(String topic, String type, List<byte[]> payloads,
                                                      Map<String, List<String>> headers, String idempotencyKey) {
        return changes.appendBatch(topic, type, payloads, headers, idempotencyKey);
    }

    @Override
    public CompletableFuture<TopicState> setRetention(String topic, Retention retention) {
        return changes.setRetention(topic, retention);
    }

    @Override
    public CompletableFuture<Boolean> delete(String topic) {
        return changes.delete(topic);
    }

    @Override
    public void submit(Transaction tx) {
        changes.submit(tx);
    }

    // ---- reads ----

    @Override
    public CompletableFuture<List<Message>> read(String topic, long from, int maxCount, long maxBytes) {
        return reads.read(topic, from, maxCount, maxBytes);
    }

    @Override
    public Optional<TopicState> state(String topic) {
        return reads.state(topic);
    }

    @Override
    public CompletableFuture<Optional<TopicState>> stateAsync(String topic) {
        return reads.stateAsync(topic);
    }

    @Override
    public List<TopicState> topics() {
        return reads.topics();
    }

    @Override
    public CompletableFuture<List<TopicState>> topicsAsync() {
        return reads.topicsAsync();
    }

    @Override
    public int topicCount() {
        return reads.topicCount();
    }

    @Override
    public CompletableFuture<byte[]> record(String key) {
        return reads.record(key);
    }

    @Override
    public List<Record> recordsWithPrefix(String prefix) {
        return reads.recordsWithPrefix(prefix);
    }

    /** Waits for a Redis answer on the caller's thread, as a refusal when Redis does not give one. */
    <T> T awaitRedis(Supplier<CompletableFuture<T>> call) {
        if (closed) {
            throw closedRefusal();
        }
        try {
            return call.get().get(COMMAND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw unavailable(e.getCause());
        } catch (TimeoutException | RuntimeException e) {
            throw unavailable(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw unavailable(e);
        }
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

    @Override
    public synchronized Optional<JobLedger> jobLedger(JobLedger.Settings defaults) {
        if (jobs == null) {
            jobs = new RedisJobLedger(this, defaults);
        }
        return Optional.of(jobs);
    }

    @Override
    public synchronized Optional<LiveExchange> liveExchange(Consumer<LiveExchange.Heard> receiver) {
        if (live == null) {
            live = new RedisLive(this, receiver, metrics);
        }
        return Optional.of(live);
    }

    @Override
    public synchronized Optional<GroupLedger> groupLedger(GroupLedger.Settings settings) {
        if (groups == null) {
            groups = new RedisGroupLedger(this, settings);
        }
        return Optional.of(groups);
    }

    /** Refuses a call once the engine is closed. */
    void requireOpen() {
        if (closed) {
            throw closedRefusal();
        }
    }

    /** For reads, which report a closed engine in their future rather than by throwing. */
    boolean isClosed() {
        return closed;
    }

    // ---- health ----

    @Override
    public boolean shared() {
        return true;
    }

    @Override
    public Optional<String> unhealthy() {
        return closed ? Optional.of("the engine is closed") : health.unhealthy();
    }

    @Override
    public Map<String, Object> health() {
        return health.health(writer.inFlight());
    }

    @Override
    public void close() {
        if (!closing.compareAndSet(false, true)) {
            return;
        }
        watchers.close(); // first: a watcher told of a change may still call the engine
        synchronized (this) {
            if (jobs != null) {
                jobs.close();
            }
            if (groups != null) {
                groups.close();
            }
            if (live != null) {
                live.close();
            }
        }
        closed = true;
        writer.close();
        timer.shutdownNow();
        connection.close();
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        resources.shutdown(0, 2, TimeUnit.SECONDS);
        answers.shutdown();
        try {
            answers.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---- helpers ----

    static ApiException closedRefusal() {
        return ApiException.unavailable("the engine is closed");
    }

    /** A failure as callers see it: a refusal passes through, anything from Redis is {@code unavailable}. */
    static ApiException unavailable(Throwable failure) {
        Throwable t = failure;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof ApiException api) {
            return api;
        }
        return ApiException.unavailable("Redis did not answer (" + t.getMessage() + "); retry shortly");
    }

    static String text(Object bytes) {
        return bytes == null ? null : new String((byte[]) bytes, StandardCharsets.UTF_8);
    }

    static long number(Object bytes) {
        return Long.parseLong(text(bytes));
    }
}

