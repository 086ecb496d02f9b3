package dev.switchboard.engine.redis;

import dev.switchboard.broker.JobLedger;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.IntPredicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Jobs in Redis, shared by every node: each operation is one run of jobs.lua (docs/cluster.md, "Jobs across
 * nodes"), a job's change and its event together, by Redis's clock. Changes go through the engine's writer like
 * every other change (their order, and {@code WAIT} for replicas); reads go to Redis directly.
 *
 * <p>No node owns a lease: every claim first requeues the leases due, and every node's timer runs the same
 * idempotent expiry four times a second, so leases expire while any node is up. A claim that finds nothing is held
 * here and tried again when a script announces a queued job on the queue's wake-up channel (sharded pub/sub,
 * subscribed while this node holds claims of the queue), and once a second besides, for an announcement missed
 * while Redis was away.
 */
final class RedisJobLedger implements JobLedger {
    private static final Logger log = LoggerFactory.getLogger(RedisJobLedger.class);
    private static final long EXPIRY_MILLIS = 250;
    private static final long RETRY_HELD_MILLIS = 1000;
    private static final String WAKE_SUFFIX = "}:wake";

    private final RedisBroker broker;
    private final Settings defaults;
    private final SecureRandom random = new SecureRandom();
    private final StatefulRedisPubSubConnection<String, byte[]> wakeUps;
    /** Held claims per queue, oldest first. */
    private final Map<String, Held> held = new ConcurrentHashMap<>();
    private volatile boolean closed;

    RedisJobLedger(RedisBroker broker, Settings defaults) {
        this.broker = broker;
        this.defaults = defaults;
        this.wakeUps = broker.connectPubSub();
        wakeUps.addListener(new RedisPubSubAdapter<>() {
            @Override
            public void smessage(String channel, byte[] message) {
                String queue = queueOf(channel);
                if (queue != null) {
                    broker.timer.execute(() -> tryHeld(queue));
                }
            }

            @Override
            public void sunsubscribed(String channel, long count) {
                String queue = queueOf(channel);
                if (queue != null) {
                    broker.subscribeAgain(wakeUps, channel, () -> !closed && held.containsKey(queue));
                }
            }
        });
        broker.timer.scheduleWithFixedDelay(this::expire, EXPIRY_MILLIS, EXPIRY_MILLIS, TimeUnit.MILLISECONDS);
        broker.timer.scheduleWithFixedDelay(this::retryAllHeld, RETRY_HELD_MILLIS, RETRY_HELD_MILLIS,
                TimeUnit.MILLISECONDS);
    }

    // ---- reads ----

    @Override
    public CompletableFuture<Fields> find(String id) {
        return read("find", RedisSlotTags.ofJob(id), "", List.of(id),
                reply -> isNone(reply) ? null : fields(reply.get(1)));
    }

    @Override
    public CompletableFuture<byte[]> result(String id) {
        return read("result", RedisSlotTags.ofJob(id), "", List.of(id),
                reply -> isNone(reply) ? null : (byte[]) reply.get(1));
    }

    @Override
    public CompletableFuture<QueueCounts> queue(String queue) {
        return read("queue", RedisSlotTags.ofQueue(queue), queue, List.of(), reply -> {
            Map<String, Long> counts = new HashMap<>();
            pairs(reply.get(1)).forEach((status, n) -> counts.put(status, Long.parseLong(RedisBroker.text(n))));
            Map<String, byte[]> s = pairs(reply.get(2));
            Settings settings = s.isEmpty() ? null : new Settings(Integer.parseInt(RedisBroker.text(s.get("attempts"))),
                    Long.parseLong(RedisBroker.text(s.get("lease"))), Long.parseLong(RedisBroker.text(s.get("ttl"))));
            return new QueueCounts(counts, settings);
        });
    }

    // ---- changes ----

    @Override
    public CompletableFuture<Fields> submit(String queue, String id, String type, byte[] payload,
                                            String idempotencyKey) {
        // The id ends with the tag of its queue's slot: its records and topic are then in the queue's slot.
        return change("submit", RedisSlotTags.ofQueue(queue), queue, args(RedisSlotTags.jobId(id, queue), type,
                payload, idempotencyKey == null ? "" : idempotencyKey));
    }

    @Override
    public CompletableFuture<List<Claimed>> claim(String queue, int max, Duration wait, Long leaseMillis) {
        return claimNow(queue, max, leaseMillis).thenCompose(claimed -> {
            if (!claimed.isEmpty() || wait.isZero()) {
                return CompletableFuture.completedFuture(claimed);
            }
            return hold(queue, new HeldClaim(max, leaseMillis, System.nanoTime() + wait.toNanos()), wait);
        });
    }

    private CompletableFuture<List<Claimed>> claimNow(String queue, int max, Long leaseMillis) {
        List<Object> a = new ArrayList<>(List.of(max, leaseMillis == null ? "" : leaseMillis));
        for (int i = 0; i < max; i++) {
            a.add(nonce());
        }
        return run("claim", RedisSlotTags.ofQueue(queue), queue, a, reply -> {
            List<Claimed> claimed = new ArrayList<>(reply.size() - 1);
            for (Object o : reply.subList(1, reply.size())) {
                List<?> one = (List<?>) o;
                claimed.add(new Claimed(fields(one.get(0)), (byte[]) one.get(1)));
            }
            return claimed;
        }, true);
    }

    @Override
    public CompletableFuture<Fields> progress(String id, String leaseToken, Integer percent, String message) {
        List<Object> a = new ArrayList<>(List.of(id, leaseToken, percent == null ? "" : percent));
        if (message != null) {
            a.add(message);
        }
        return change("progress", RedisSlotTags.ofJob(id), "", a);
    }

    @Override
    public CompletableFuture<Fields> heartbeat(String id, String leaseToken) {
        return change("heartbeat", RedisSlotTags.ofJob(id), "", args(id, leaseToken));
    }

    @Override
    public CompletableFuture<Fields> complete(String id, String leaseToken, String type, byte[] result,
                                              byte[] publicResult, boolean inline) {
        return change("complete", RedisSlotTags.ofJob(id), "", args(id, leaseToken, type, result, publicResult,
                inline ? "1" : "0"));
    }

    @Override
    public CompletableFuture<Fields> fail(String id, String leaseToken, String reason, boolean retry) {
        return change("fail", RedisSlotTags.ofJob(id), "", args(id, leaseToken, reason, retry ? "1" : "0"));
    }

    @Override
    public CompletableFuture<Fields> cancel(String id) {
        return change("cancel", RedisSlotTags.ofJob(id), "", args(id));
    }

    @Override
    public CompletableFuture<Void> configure(String queue, Settings settings) {
        return run("configure", RedisSlotTags.ofQueue(queue), queue, args(settings.maxAttempts(),
                settings.leaseMillis(), settings.resultTtlMillis()), reply -> null, true);
    }

    /** Every node's timer: requeues the leases due and removes the finished jobs due, by Redis's clock. */
    private void expire() {
        if (closed) {
            return;
        }
        try {
            // One script per slot that holds queues: a script stays in one slot.
            for (byte[] slot : broker.awaitRedis(() -> broker.redis.zrange(broker.keys.jobSlots(), 0, -1)
                    .toCompletableFuture())) {
                run("expire", RedisBroker.text(slot), "", List.of(), reply -> null, true).whenComplete((v, e) -> {
                    if (e != null) {
                        log.debug("job expiry deferred: {}", e.getMessage());
                    }
                });
            }
        } catch (ApiException e) {
            log.debug("job expiry deferred: {}", e.getMessage());
        }
    }

    // ---- held claims ----

    /** Claims waiting on one queue, oldest first; {@code trying} while one of them is being tried in Redis. */
    private static final class Held {
        final ArrayDeque<HeldClaim> claims = new ArrayDeque<>();
        boolean trying;
        boolean again;
        boolean gone;
    }

    /** A claim that found nothing and waits. Either a try hands it jobs or its wait ends; {@link #take} decides. */
    private static final class HeldClaim {
        final int max;
        final Long leaseMillis;
        final long deadline;
        final CompletableFuture<List<Claimed>> result = new CompletableFuture<>();
        private final AtomicBoolean taken = new AtomicBoolean();

        HeldClaim(int max, Long leaseMillis, long deadline) {
            this.max = max;
            this.leaseMillis = leaseMillis;
            this.deadline = deadline;
        }

        boolean take() {
            return !result.isDone() && taken.compareAndSet(false, true);
        }

        void release() {
            taken.set(false);
        }
    }

    /** Subscribes again to the wake-ups of each queue with held claims whose slot {@code changedMaster}. */
    void subscribeAgainWhereMastersChanged(IntPredicate changedMaster) {
        for (String queue : held.keySet()) {
            String channel = wakeChannel(queue);
            if (changedMaster.test(SlotHash.getSlot(channel))) {
                broker.subscribeAgain(wakeUps, channel, () -> !closed && held.containsKey(queue));
            }
        }
    }

    private String wakeChannel(String queue) {
        return broker.keys.prefix() + "{q:" + queue + WAKE_SUFFIX;
    }

    private CompletableFuture<List<Claimed>> hold(String queue, HeldClaim claim, Duration wait) {
        while (true) {
            Held h = held.computeIfAbsent(queue, q -> {
                wakeUps.async().ssubscribe(wakeChannel(q)).thenRun(
                        () -> broker.timer.execute(() -> tryHeld(q)));
                return new Held();
            });
            synchronized (h) {
                if (!h.gone) {
                    h.claims.add(claim);
                    break;
                }
            }
        }
        broker.timer.schedule(() -> {
            if (claim.take()) {
                claim.result.complete(List.of());
            }
        }, wait.toNanos(), TimeUnit.NANOSECONDS);
        // A job queued between the first try and the subscription is found by this try.
        tryHeld(queue);
        return claim.result;
    }

    /** Tries the queue's oldest held claim, then the next while jobs come; one try per queue at a time. */
    private void tryHeld(String queue) {
        Held h = held.get(queue);
        if (h == null || closed) {
            return;
        }
        HeldClaim claim;
        synchronized (h) {
            if (h.trying) {
                h.again = true;
                return;
            }
            do {
                claim = h.claims.poll();
            } while (claim != null && !claim.take());
            if (claim == null) {
                return;
            }
            h.trying = true;
            h.again = false;
        }
        HeldClaim tried = claim;
        CompletableFuture<List<Claimed>> attempt;
        try {
            attempt = claimNow(queue, tried.max, tried.leaseMillis);
        } catch (ApiException e) {
            attempt = CompletableFuture.failedFuture(e);
        }
        attempt.whenComplete((claimed, failure) -> {
            boolean more;
            synchronized (h) {
                h.trying = false;
                if (failure != null) {
                    tried.result.completeExceptionally(failure);
                    more = true;
                } else if (!claimed.isEmpty()) {
                    tried.result.complete(claimed);
                    more = true;
                } else if (System.nanoTime() - tried.deadline >= 0) {
                    tried.result.complete(List.of());
                    more = h.again;
                } else {
                    tried.release();
                    h.claims.addFirst(tried);
                    more = h.again;
                }
            }
            if (more) {
                tryHeld(queue);
            }
        });
    }

    /** Once a second: tries every queue's held claims, and forgets queues that hold none any more. */
    private void retryAllHeld() {
        held.forEach((queue, h) -> {
            synchronized (h) {
                h.claims.removeIf(c -> c.result.isDone());
                if (h.claims.isEmpty() && !h.trying) {
                    h.gone = true;
                    held.remove(queue, h);
                    wakeUps.async().sunsubscribe(wakeChannel(queue));
                    return;
                }
            }
            tryHeld(queue);
        });
    }

    private String queueOf(String channel) {
        String start = broker.keys.prefix() + "{q:";
        return channel.startsWith(start) && channel.endsWith(WAKE_SUFFIX)
                ? channel.substring(start.length(), channel.length() - WAKE_SUFFIX.length()) : null;
    }

    void close() {
        closed = true;
        held.values().forEach(h -> {
            synchronized (h) {
                h.claims.forEach(c -> c.result.completeExceptionally(ApiException.unavailable("the engine is closed")));
            }
        });
        wakeUps.close();
    }

    // ---- running jobs.lua ----

    private CompletableFuture<Fields> change(String op, String slotTag, String queue, List<Object> args) {
        return run(op, slotTag, queue, args, reply -> fields(reply.get(1)), true);
    }

    private <T> CompletableFuture<T> read(String op, String slotTag, String queue, List<Object> args,
                                          Function<List<Object>, T> answer) {
        return run(op, slotTag, queue, args, answer, false);
    }

    /**
     * Runs an operation in the slot of {@code slotTag} ({@link RedisSlotTags}): a change through the writer (its
     * order, {@code WAIT}), a read straight to Redis.
     */
    private <T> CompletableFuture<T> run(String op, String slotTag, String queue, List<Object> args,
                                         Function<List<Object>, T> answer, boolean change) {
        broker.requireOpen();
        List<Object> all = new ArrayList<>(List.of(broker.keys.prefix(), op));
        List<byte[]> head = new ArrayList<>(RedisKeys.args(all.toArray()));
        head.addAll(RedisChanges.retentionArgs(broker.defaultRetention));
        head.addAll(RedisKeys.args(defaults.maxAttempts(), defaults.leaseMillis(), defaults.resultTtlMillis(), queue));
        head.addAll(RedisKeys.args(args.toArray()));
        byte[][] argv = head.toArray(byte[][]::new);
        Function<List<Object>, T> checked = reply -> {
            if (RedisBroker.text(reply.get(0)).equals("E")) {
                throw new ApiException(ErrorCode.valueOf(RedisBroker.text(reply.get(1))),
                        RedisBroker.text(reply.get(2)));
            }
            return answer.apply(reply);
        };
        if (change) {
            return broker.writer.issue(() -> broker.scripts.jobs.<List<Object>>run(broker.redis,
                    broker.keys.jobs(slotTag), argv), checked);
        }
        try {
            return broker.scripts.jobs.<List<Object>>run(broker.redis, broker.keys.jobs(slotTag), argv)
                    .handleAsync((reply, e) -> {
                        if (e != null) {
                            throw RedisBroker.unavailable(e);
                        }
                        return checked.apply(reply);
                    }, broker.answers);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(RedisBroker.unavailable(e));
        }
    }

    private static List<Object> args(Object... values) {
        return List.of(values);
    }

    private static boolean isNone(List<Object> reply) {
        return RedisBroker.text(reply.get(0)).equals("N");
    }

    private static Fields fields(Object flat) {
        return new Fields(pairs(flat));
    }

    private static Map<String, byte[]> pairs(Object flat) {
        List<?> list = (List<?>) flat;
        Map<String, byte[]> values = new HashMap<>();
        for (int i = 0; i + 1 < list.size(); i += 2) {
            values.put(RedisBroker.text(list.get(i)), (byte[]) list.get(i + 1));
        }
        return values;
    }

    /** The part of a lease token no other worker can guess (the fencing number before it can be). */
    private String nonce() {
        byte[] b = new byte[12];
        random.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }
}
