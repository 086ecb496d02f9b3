package dev.switchboard.engine.redis;

import dev.switchboard.broker.AppendRules;
import dev.switchboard.broker.BatchResult;
import dev.switchboard.broker.Broker;
import dev.switchboard.broker.JobLedger;
import dev.switchboard.broker.Message;
import dev.switchboard.broker.MessageHeaders;
import dev.switchboard.broker.PublishResult;
import dev.switchboard.broker.Retention;
import dev.switchboard.broker.TopicState;
import dev.switchboard.broker.TopicWatcher;
import dev.switchboard.broker.Transaction;
import dev.switchboard.config.Limits;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import dev.switchboard.wire.TopicNames;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.KeyValue;
import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions.RefreshTrigger;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.RedisClusterURIUtil;
import io.lettuce.core.cluster.SlotHash;
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
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.net.SocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;
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
 * Lettuce reconnects by itself.
 *
 * <p>On Redis Cluster ({@code redis-cluster://}) the same code runs through Lettuce's cluster client: each script
 * stays in one hash slot and goes to that slot's master (one connection per master, so a topic's changes keep their
 * order), and a transaction that would span slots is refused (docs/cluster.md, "Redis Cluster").
 */
public final class RedisBroker implements Broker {
    private static final Logger log = LoggerFactory.getLogger(RedisBroker.class);
    static final RedisCodec<String, byte[]> CODEC = RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE);
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(5);
    private static final int READ_CHUNK = 64;
    private static final int CATCH_UP_CHUNK = 1024;
    private static final long PING_MILLIS = 1000;
    /** How long a round of changes may wait for its replicas before it is refused. */
    static final Duration REPLICA_WAIT = Duration.ofSeconds(1);
    /** Changes issued in one round, which one {@code WAIT} covers. */
    private static final int ROUND = 1024;
    /** What names a Redis Cluster's seed nodes: {@code redis-cluster://}, {@code rediss-cluster://}. */
    private static final String CLUSTER_SCHEME = "-cluster://";
    private static final int KNOWN_TOPICS = 65_536;
    /** Tries to subscribe again to a channel Redis unsubscribed, {@link #RESUBSCRIBE_DELAY_MILLIS} apart. */
    private static final int RESUBSCRIBE_ATTEMPTS = 100;
    private static final long RESUBSCRIBE_DELAY_MILLIS = 100;

    final RedisKeys keys;
    private final String where;
    private final Limits limits;
    private final AppendRules rules;
    final Retention defaultRetention;
    private final long idempotencyTtlMillis;
    final RedisScripts scripts = new RedisScripts();
    private final ClientResources resources;
    /** A {@link RedisClient}, or a {@link RedisClusterClient} on Redis Cluster. */
    private final AbstractRedisClient client;
    /** On Redis Cluster every script and transaction must stay in one hash slot. */
    final boolean cluster;
    private final StatefulConnection<String, byte[]> connection;
    final RedisClusterAsyncCommands<String, byte[]> redis;
    private final RedisClusterCommands<String, byte[]> blocking;
    /**
     * Topics this node knows to be in the registry, whose appends skip the topic limit's check (a set cleared when
     * it grows large: a topic missing from it costs one check).
     */
    private final Set<String> knownTopics = ConcurrentHashMap.newKeySet();
    private final RedisWatchers watchers;
    private final BlockingQueue<Work> queue;
    private final Thread writer;
    final ExecutorService answers;
    final ScheduledExecutorService timer;
    /** Created on first use: a node that never serves jobs subscribes to nothing for them. */
    private RedisJobLedger jobs;
    private final AtomicBoolean closing = new AtomicBoolean();
    private volatile boolean closed;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicLong lastRttNanos = new AtomicLong(-1);
    /** Why the latest PING failed, or null after one answered. */
    private volatile String pingFailure;
    private final Counter reconnects;
    private final Timer pings;
    /** Writer-only: the last command issued; answers come in order, so once it is answered all earlier ones are. */
    private volatile CompletableFuture<?> lastIssued = CompletableFuture.completedFuture(null);
    /** Replicas that must hold a change before it is acknowledged ({@code WAIT}); 0: none. */
    private final int waitReplicas;
    /**
     * Writer-only: how many replicas hold the changes of the round being issued, once the round's {@code WAIT}
     * answers; null without {@link #waitReplicas}.
     */
    private CompletableFuture<Long> replicated;

    private RedisBroker(String uri, String keyPrefix, int waitReplicas, Limits limits, Retention defaultRetention,
                        Duration idempotencyTtl, MeterRegistry metrics) {
        this.keys = new RedisKeys(keyPrefix);
        this.waitReplicas = waitReplicas;
        this.limits = limits;
        this.rules = new AppendRules(limits.maxMessageBytes(), limits.maxBatchMessages(),
                limits.maxIdempotencyKeyLength());
        this.defaultRetention = defaultRetention;
        this.idempotencyTtlMillis = idempotencyTtl.toMillis();
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
        this.reconnects = Counter.builder("switchboard.redis.reconnects")
                .description("Connections to Redis made again after one was lost").register(metrics);
        this.pings = Timer.builder("switchboard.redis.ping").description("Round trips of PING to Redis")
                .register(metrics);
        Gauge.builder("switchboard.redis.commands.inflight", inFlight, AtomicInteger::get)
                .description("Changes sent to Redis and not yet answered").register(metrics);
        Gauge.builder("switchboard.redis.rtt.seconds", lastRttNanos, n -> n.get() < 0 ? Double.NaN : n.get() / 1e9)
                .description("The latest PING round trip to Redis").register(metrics);
        try {
            if (client instanceof RedisClusterClient c) {
                StatefulRedisClusterConnection<String, byte[]> clustered = c.connect(CODEC);
                this.connection = clustered;
                this.redis = clustered.async();
                this.blocking = clustered.sync();
            } else {
                StatefulRedisConnection<String, byte[]> single = ((RedisClient) client).connect(CODEC);
                this.connection = single;
                this.redis = single.async();
                this.blocking = single.sync();
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
        client.addListener(new RedisConnectionStateListener() {
            @Override
            public void onRedisConnected(RedisChannelHandler<?, ?> handler, SocketAddress address) {
                // On a cluster, each node's connection is its own handler: any of them counts.
                if (handler == connection || cluster && !(handler instanceof StatefulRedisPubSubConnection)) {
                    reconnects.increment();
                }
            }
        });
        this.answers = Executors.newSingleThreadExecutor(Thread.ofPlatform().name("switchboard-redis-answers")
                .daemon(true).factory());
        this.watchers = new RedisWatchers(connectPubSub(), keys, this);
        this.queue = new LinkedBlockingQueue<>(limits.maxPendingPublishes());
        this.writer = Thread.ofPlatform().name("switchboard-redis-writer").start(this::writeLoop);
        this.timer = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("switchboard-redis-timer")
                .daemon(true).factory());
        timer.scheduleWithFixedDelay(this::pingAndAge, 0, PING_MILLIS, TimeUnit.MILLISECONDS);
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

    // ---- writes: one writer thread, in submission order ----

    /** A change waiting for the writer; refused with {@code unavailable} when the engine closes first. */
    private interface Work {
        void run();

        void refuse(ApiException why);
    }

    @Override
    public CompletableFuture<PublishResult> append(String topic, String type, byte[] payload,
                                                   Map<String, List<String>> headers, String idempotencyKey) {
        rules.check(topic, type, payload, headers, idempotencyKey);
        return appendAll(topic, type, List.of(payload), headers, idempotencyKey)
                .thenApply(r -> new PublishResult(topic, r.firstOffset(), r.time(), r.replayed()));
    }

    @Override
    public CompletableFuture<BatchResult> appendBatch(String topic, String type, List<byte[]> payloads,
                                                      Map<String, List<String>> headers, String idempotencyKey) {
        rules.checkBatch(topic, type, payloads, headers, idempotencyKey);
        return appendAll(topic, type, List.copyOf(payloads), headers, idempotencyKey);
    }

    private CompletableFuture<BatchResult> appendAll(String topic, String type, List<byte[]> payloads,
                                                     Map<String, List<String>> headers, String idempotencyKey) {
        return issue(() -> {
            List<byte[]> args = new ArrayList<>(payloads.size() + 10);
            args.addAll(RedisKeys.args(keys.prefix(), topic, type, idempotencyKey == null ? "" : idempotencyKey,
                    idempotencyTtlMillis, roomFor(topic)));
            args.addAll(retentionArgs(defaultRetention));
            args.add(headers.isEmpty() ? new byte[0] : MessageHeaders.encode(headers));
            args.addAll(payloads);
            return scripts.append.<List<Object>>run(redis, keys.meta(topic), args.toArray(byte[][]::new));
        }, reply -> switch (text(reply.get(0))) {
                    case "A", "R" -> {
                        long[] range = Arrays.stream(text(reply.get(1)).split(" ")).mapToLong(Long::parseLong)
                                .toArray();
                        rememberTopic(topic);
                        yield new BatchResult(topic, range[0], range[1], range[2], text(reply.get(0)).equals("R"));
                    }
                    case "L" -> throw overTopicLimit();
                    default -> throw unexpected(reply);
                });
    }

    @Override
    public CompletableFuture<TopicState> setRetention(String topic, Retention retention) {
        AppendRules.writableTopic(topic);
        return issue(() -> {
            List<byte[]> args = new ArrayList<>(RedisKeys.args(keys.prefix(), topic, roomFor(topic)));
            args.addAll(retentionArgs(retention));
            return scripts.retention.<List<Object>>run(redis, keys.meta(topic), args.toArray(byte[][]::new));
        }, reply -> switch (text(reply.get(0))) {
                    case "S" -> {
                        rememberTopic(topic);
                        yield new TopicState(topic, number(reply.get(1)), number(reply.get(2)),
                                number(reply.get(3)), number(reply.get(4)), number(reply.get(5)), retention);
                    }
                    case "L" -> throw overTopicLimit();
                    default -> throw unexpected(reply);
                });
    }

    @Override
    public CompletableFuture<Boolean> delete(String topic) {
        AppendRules.writableTopic(topic);
        return issue(() -> scripts.delete.<Long>run(redis, keys.meta(topic),
                RedisKeys.args(keys.prefix(), topic).toArray(byte[][]::new)), deleted -> {
                    knownTopics.remove(topic);
                    return deleted == 1;
                });
    }

    /**
     * On the writer: "1" when {@code topic} may be created under the topic limit (it is in the registry already, or
     * the registry has room), else "0". The registry is a set of its own (a slot of its own on a cluster), so the
     * append's script cannot count it: nodes creating topics at the same moment may pass the limit by a few.
     */
    private String roomFor(String topic) {
        if (knownTopics.contains(topic)) {
            return "1";
        }
        CompletableFuture<Double> listed = redis.zscore(keys.registry(), topic.getBytes(StandardCharsets.UTF_8))
                .toCompletableFuture();
        CompletableFuture<Long> count = redis.zcard(keys.registry()).toCompletableFuture();
        return awaitRedis(() -> listed) != null || awaitRedis(() -> count) < limits.maxTopics() ? "1" : "0";
    }

    private void rememberTopic(String topic) {
        if (knownTopics.size() >= KNOWN_TOPICS) {
            knownTopics.clear();
        }
        knownTopics.add(topic);
    }

    @Override
    public void submit(Transaction tx) {
        enqueue(new Work() {
            @Override
            public void run() {
                RedisStage stage;
                try {
                    stage = new RedisStage(blocking, keys, now());
                    tx.stage(stage);
                } catch (ApiException e) {
                    answers.execute(() -> tx.failed(e));
                    return;
                } catch (RuntimeException e) {
                    ApiException why = unavailable(e);
                    answers.execute(() -> tx.failed(why));
                    return;
                }
                List<String> slotKeys = stage.slotKeys();
                if (cluster && slotKeys.stream().map(SlotHash::getSlot).distinct().count() > 1) {
                    ApiException why = stage.spansSlots();
                    answers.execute(() -> tx.failed(why));
                    return;
                }
                if (stage.isEmpty()) {
                    answers.execute(() -> {
                        tx.durable();
                        tx.committed();
                    });
                    return;
                }
                List<byte[]> args = new ArrayList<>(RedisKeys.args(keys.prefix(), stage.now()));
                args.addAll(retentionArgs(defaultRetention));
                args.addAll(stage.arguments());
                CompletableFuture<Void> stored = issueNow(() -> scripts.transaction.<List<Object>>run(redis,
                        slotKeys.getFirst(), args.toArray(byte[][]::new)), reply -> {
                    if (text(reply.get(0)).equals("C")) {
                        throw RedisStage.conflict(text(reply.get(1)));
                    }
                    return null;
                });
                stored.whenComplete((ok, failure) -> {
                    if (failure == null) {
                        tx.durable();
                        tx.committed();
                    } else {
                        tx.failed(unavailable(failure));
                    }
                });
            }

            @Override
            public void refuse(ApiException why) {
                answers.execute(() -> tx.failed(why));
            }
        });
    }

    /** Queues a change for the writer; its answer is parsed by {@code answer} (which may throw a refusal). */
    <R, T> CompletableFuture<T> issue(Supplier<CompletableFuture<R>> command,
                                              Function<R, T> answer) {
        CompletableFuture<T> done = new CompletableFuture<>();
        enqueue(new Work() {
            @Override
            public void run() {
                issueNow(command, answer).whenComplete((v, e) -> {
                    if (e == null) {
                        done.complete(v);
                    } else {
                        done.completeExceptionally(unavailable(e));
                    }
                });
            }

            @Override
            public void refuse(ApiException why) {
                answers.execute(() -> done.completeExceptionally(why));
            }
        });
        return done;
    }

    /** On the writer: sends the command now; the future completes on the answer thread. */
    private <R, T> CompletableFuture<T> issueNow(Supplier<CompletableFuture<R>> command,
                                                 Function<R, T> answer) {
        inFlight.incrementAndGet();
        CompletableFuture<R> sent;
        try {
            sent = command.get();
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        lastIssued = sent;
        CompletableFuture<R> stored = sent.whenComplete((r, e) -> inFlight.decrementAndGet());
        if (replicated != null) {
            stored = stored.thenCombine(replicated, (r, replicas) -> {
                if (replicas < waitReplicas) {
                    // Stored on the primary, not known to be on enough replicas: a retry with the same
                    // Idempotency-Key stores it once.
                    throw ApiException.unavailable("the change reached " + replicas + " of the " + waitReplicas
                            + " Redis replicas required within " + REPLICA_WAIT.toMillis() + " ms; retry shortly");
                }
                return r;
            });
        }
        return stored.thenApplyAsync(answer, answers);
    }

    private void enqueue(Work work) {
        if (closed) {
            throw closedRefusal();
        }
        if (!queue.offer(work)) {
            throw ApiException.unavailable("too many changes waiting for Redis; retry shortly");
        }
        if (closed && queue.remove(work)) {
            throw closedRefusal(); // closed meanwhile: the writer may not see it any more
        }
    }

    /**
     * Issues what is queued in rounds; with {@link #waitReplicas}, one {@code WAIT} after each round covers all of
     * its changes (a group commit for replication: one replica round trip per round, not per change).
     */
    private void writeLoop() {
        List<Work> round = new ArrayList<>(ROUND);
        while (!closed) {
            try {
                Work first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                round.add(first);
            } catch (InterruptedException e) {
                break;
            }
            queue.drainTo(round, ROUND - 1);
            CompletableFuture<?> issuedBefore = lastIssued;
            replicated = waitReplicas > 0 ? new CompletableFuture<>() : null;
            for (Work work : round) {
                try {
                    work.run();
                } catch (RuntimeException e) {
                    log.error("a change for Redis failed on the writer", e);
                    work.refuse(unavailable(e));
                }
            }
            round.clear();
            if (replicated != null) {
                waitForReplicas(replicated, lastIssued != issuedBefore);
                replicated = null;
            }
        }
        for (Work w; (w = queue.poll()) != null; ) {
            w.refuse(closedRefusal());
        }
    }

    private void waitForReplicas(CompletableFuture<Long> round, boolean anythingIssued) {
        if (!anythingIssued) {
            round.complete((long) waitReplicas);
            return;
        }
        CompletableFuture<Long> wait;
        try {
            wait = redis.waitForReplication(waitReplicas, REPLICA_WAIT.toMillis()).toCompletableFuture();
        } catch (RuntimeException e) {
            wait = CompletableFuture.failedFuture(e);
        }
        lastIssued = wait;
        wait.whenComplete((replicas, e) -> {
            if (e == null) {
                round.complete(replicas);
            } else {
                round.completeExceptionally(e);
            }
        });
    }

    /** Redis's clock, which every node shares (a transaction's time; appends take it inside their script). */
    private long now() {
        List<byte[]> time = blocking.time();
        return Long.parseLong(text(time.get(0))) * 1000 + Long.parseLong(text(time.get(1))) / 1000;
    }

    static List<byte[]> retentionArgs(Retention r) {
        return RedisKeys.args(r.maxMessages() == null ? "" : r.maxMessages(),
                r.maxAge() == null ? "" : r.maxAge().toMillis(), r.maxBytes() == null ? "" : r.maxBytes());
    }

    private ApiException overTopicLimit() {
        return new ApiException(ErrorCode.LIMIT_EXCEEDED, "the server holds " + limits.maxTopics()
                + " topics, its limit");
    }

    private static IllegalStateException unexpected(List<Object> reply) {
        return new IllegalStateException("unexpected answer from a script: " + reply.stream().map(o ->
                o instanceof byte[] b ? text(b) : String.valueOf(o)).toList());
    }

    // ---- reads ----

    @Override
    public CompletableFuture<List<Message>> read(String topic, long from, int maxCount, long maxBytes) {
        if (closed) {
            return CompletableFuture.failedFuture(closedRefusal());
        }
        CompletableFuture<List<Message>> done = new CompletableFuture<>();
        readFrom(topic, Math.max(1, from), maxCount, maxBytes, new ArrayList<>(), 0, done);
        return done;
    }

    /** Reads in chunks, so that a byte bound is not overshot by a whole count of large messages. */
    private void readFrom(String topic, long from, int maxCount, long maxBytes, List<Message> got, long bytes,
                          CompletableFuture<List<Message>> done) {
        int chunk = Math.min(READ_CHUNK, maxCount - got.size());
        CompletableFuture<List<StreamMessage<String, byte[]>>> read;
        try {
            read = redis.xrange(keys.stream(topic), Range.create(from + "-0", "+"), Limit.from(chunk))
                    .toCompletableFuture();
        } catch (RuntimeException e) {
            read = CompletableFuture.failedFuture(e);
        }
        read.whenCompleteAsync((entries, failure) -> {
            if (failure != null) {
                done.completeExceptionally(unavailable(failure));
                return;
            }
            long total = bytes;
            for (StreamMessage<String, byte[]> e : entries) {
                Message m = message(topic, e);
                got.add(m);
                total += m.payload().length;
                if (total >= maxBytes || got.size() >= maxCount) {
                    done.complete(got);
                    return;
                }
            }
            if (entries.size() < chunk) {
                done.complete(got);
            } else {
                readFrom(topic, got.getLast().offset() + 1, maxCount, maxBytes, got, total, done);
            }
        }, answers);
    }

    static Message message(String topic, StreamMessage<String, byte[]> e) {
        String id = e.getId();
        long offset = Long.parseLong(id.substring(0, id.indexOf('-')));
        Map<String, byte[]> body = e.getBody();
        byte[] headers = body.get("h");
        return new Message(topic, offset, Long.parseLong(text(body.get("t"))), text(body.get("y")), body.get("p"),
                headers == null ? MessageHeaders.NONE : MessageHeaders.decode(headers, 0, headers.length));
    }

    /** Blocks for one round trip: the contract's positions are synchronous ({@link #stateAsync} is not). */
    @Override
    public Optional<TopicState> state(String topic) {
        return awaitRedis(() -> stateOf(topic));
    }

    @Override
    public CompletableFuture<Optional<TopicState>> stateAsync(String topic) {
        return answered(() -> stateOf(topic));
    }

    private CompletableFuture<Optional<TopicState>> stateOf(String topic) {
        return stateOf(topic, redis.hgetall(keys.meta(topic)).toCompletableFuture());
    }

    @Override
    public List<TopicState> topics() {
        return awaitRedis(this::allTopics);
    }

    @Override
    public CompletableFuture<List<TopicState>> topicsAsync() {
        return answered(this::allTopics);
    }

    /** Two round trips whatever the number of topics: their names, then every topic's state at once. */
    private CompletableFuture<List<TopicState>> allTopics() {
        return redis.zrange(keys.registry(), 0, -1).toCompletableFuture().thenCompose(names -> {
            List<CompletableFuture<Optional<TopicState>>> states = names.stream().map(n -> stateOf(text(n))).toList();
            return CompletableFuture.allOf(states.toArray(CompletableFuture[]::new)).thenApply(v -> states.stream()
                    .map(CompletableFuture::join).flatMap(Optional::stream).toList());
        });
    }

    @Override
    public int topicCount() {
        return Math.toIntExact(awaitRedis(() -> redis.zcard(keys.registry()).toCompletableFuture()));
    }

    private static CompletableFuture<Optional<TopicState>> stateOf(String topic,
                                                                  CompletableFuture<Map<String, byte[]>> meta) {
        return meta.thenApply(m -> m.isEmpty() ? Optional.empty() : Optional.of(new TopicState(topic,
                number(m.get("epoch")), number(m.get("first")), number(m.get("last")), number(m.get("bytes")),
                number(m.get("created")), new Retention(optionalNumber(m.get("rmax")),
                optionalNumber(m.get("rage")) == null ? null : Duration.ofMillis(optionalNumber(m.get("rage"))),
                optionalNumber(m.get("rbytes"))))));
    }

    @Override
    public CompletableFuture<byte[]> record(String key) {
        return answered(() -> redis.get(keys.record(key)).toCompletableFuture());
    }

    /** A read's answer on the answer thread, never on Lettuce's loop; a failure as a refusal. */
    private <T> CompletableFuture<T> answered(Supplier<CompletableFuture<T>> call) {
        if (closed) {
            return CompletableFuture.failedFuture(closedRefusal());
        }
        try {
            return call.get().handleAsync((v, e) -> {
                if (e != null) {
                    throw unavailable(e);
                }
                return v;
            }, answers);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(unavailable(e));
        }
    }

    @Override
    public List<Record> recordsWithPrefix(String prefix) {
        byte[] from = prefix.getBytes(StandardCharsets.UTF_8);
        byte[] to = Arrays.copyOf(from, from.length + 1);
        to[from.length] = (byte) 0xff; // above every UTF-8 byte: the end of the keys that start with the prefix
        List<byte[]> names = awaitRedis(() -> redis.zrangebylex(keys.records(),
                Range.create(from, to)).toCompletableFuture());
        if (names.isEmpty()) {
            return List.of();
        }
        List<String> recordKeys = names.stream().map(RedisBroker::text).toList();
        var values = awaitRedis(() -> redis.mget(recordKeys.stream().map(keys::record).toArray(String[]::new))
                .toCompletableFuture());
        List<Record> records = new ArrayList<>(names.size());
        for (int i = 0; i < recordKeys.size(); i++) {
            if (values.get(i).hasValue()) {
                records.add(new Record(recordKeys.get(i), values.get(i).getValue()));
            }
        }
        return records;
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

    /** The topic's epoch and positions as the watchers track them, or null when there is no such topic. */
    RedisWatchers.Position position(String topic) {
        List<KeyValue<String, byte[]>> f = awaitRedis(() -> redis.hmget(keys.meta(topic), "epoch",
                "first", "last").toCompletableFuture());
        if (!f.get(0).hasValue()) {
            return null;
        }
        return new RedisWatchers.Position(text(f.get(0).getValue()), number(f.get(1).getValue()),
                number(f.get(2).getValue()));
    }

    /** Several topics' messages, {@code topic → [from, to]}, read at once (one round trip) on the watchers' thread. */
    Map<String, NavigableMap<Long, Message>> ranges(Map<String, long[]> ranges) {
        Map<String, CompletableFuture<List<StreamMessage<String, byte[]>>>> reads = new HashMap<>();
        ranges.forEach((topic, r) -> reads.put(topic, redis.xrange(keys.stream(topic),
                Range.create(r[0] + "-0", r[1] + "-0")).toCompletableFuture()));
        Map<String, NavigableMap<Long, Message>> read = new HashMap<>();
        reads.forEach((topic, f) -> {
            NavigableMap<Long, Message> messages = new TreeMap<>();
            for (StreamMessage<String, byte[]> e : awaitRedis(() -> f)) {
                Message m = message(topic, e);
                messages.put(m.offset(), m);
            }
            read.put(topic, messages);
        });
        return read;
    }

    /**
     * Messages {@code from..to} for the watchers, read on their thread, {@code CATCH_UP_CHUNK} at a time (a
     * catch-up after an outage may span many).
     */
    void range(String topic, long from, long to, Consumer<Message> each) {
        long next = from;
        while (next <= to) {
            long start = next;
            List<StreamMessage<String, byte[]>> entries = awaitRedis(() -> redis.xrange(keys.stream(topic),
                    Range.create(start + "-0", to + "-0"), Limit.from(CATCH_UP_CHUNK)).toCompletableFuture());
            for (StreamMessage<String, byte[]> e : entries) {
                Message m = message(topic, e);
                each.accept(m);
                next = m.offset() + 1;
            }
            if (entries.size() < CATCH_UP_CHUNK) {
                return;
            }
        }
    }

    @Override
    public synchronized Optional<JobLedger> jobLedger(JobLedger.Settings defaults) {
        if (jobs == null) {
            jobs = new RedisJobLedger(this, defaults);
        }
        return Optional.of(jobs);
    }

    /** Refuses a call once the engine is closed. */
    void requireOpen() {
        if (closed) {
            throw closedRefusal();
        }
    }

    // ---- timer: health and age retention ----

    private void pingAndAge() {
        try {
            long start = System.nanoTime();
            redis.ping().get(COMMAND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            long rtt = System.nanoTime() - start;
            lastRttNanos.set(rtt);
            pingFailure = null;
            pings.record(rtt, TimeUnit.NANOSECONDS);
            // Any node may drop old messages: the script decides by Redis's clock, and a second run changes nothing.
            for (byte[] topic : redis.zrange(keys.aged(), 0, -1).get(COMMAND_TIMEOUT.toMillis(),
                    TimeUnit.MILLISECONDS)) {
                scripts.age.<Long>run(redis, keys.meta(text(topic)), RedisKeys.args(keys.prefix(), text(topic))
                        .toArray(byte[][]::new));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            lastRttNanos.set(-1);
            pingFailure = unavailable(e).getMessage();
            log.debug("Redis health check failed", e);
        }
    }

    // ---- health ----

    @Override
    public boolean shared() {
        return true;
    }

    @Override
    public Optional<String> unhealthy() {
        if (closed) {
            return Optional.of("the engine is closed");
        }
        if (!connection.isOpen()) {
            return Optional.of("Redis at " + where + " is unreachable; reconnecting");
        }
        String failure = pingFailure;
        return failure == null ? Optional.empty() : Optional.of("Redis at " + where + " does not answer: " + failure);
    }

    @Override
    public Map<String, Object> health() {
        Map<String, Object> redisHealth = new LinkedHashMap<>();
        long rtt = lastRttNanos.get();
        if (rtt >= 0) {
            redisHealth.put("rttMillis", rtt / 1e6);
        }
        redisHealth.put("reconnects", (long) reconnects.count());
        redisHealth.put("commandsInFlight", inFlight.get());
        return Map.of("engine", "redis", "redis", redisHealth);
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
        }
        closed = true;
        try {
            writer.join(10_000);
            // Every change issued is answered before the connection closes: one stored must not be reported lost.
            lastIssued.handle((v, e) -> null).get(COMMAND_TIMEOUT.toMillis() * 2, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            log.warn("closing with changes still unanswered by Redis", e);
        }
        for (Work w; (w = queue.poll()) != null; ) {
            w.refuse(closedRefusal());
        }
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

    private static ApiException closedRefusal() {
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

    private static long number(Object bytes) {
        return Long.parseLong(text(bytes));
    }

    private static Long optionalNumber(byte[] bytes) {
        return bytes == null || bytes.length == 0 ? null : Long.parseLong(text(bytes));
    }
}
