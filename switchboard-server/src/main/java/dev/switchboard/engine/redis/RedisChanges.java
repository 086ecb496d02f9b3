package dev.switchboard.engine.redis;

import static dev.switchboard.engine.redis.RedisBroker.number;
import static dev.switchboard.engine.redis.RedisBroker.text;
import static dev.switchboard.engine.redis.RedisBroker.unavailable;

import dev.switchboard.broker.AppendRules;
import dev.switchboard.broker.BatchResult;
import dev.switchboard.broker.MessageHeaders;
import dev.switchboard.broker.PublishResult;
import dev.switchboard.broker.Retention;
import dev.switchboard.broker.TopicState;
import dev.switchboard.broker.Transaction;
import dev.switchboard.config.Limits;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;

/**
 * The Redis engine's changes: appends, retention, deletes and transactions, each one script that Redis runs
 * atomically ({@link RedisScripts}), issued in order through the {@link RedisWriter}.
 */
final class RedisChanges {
    private static final int KNOWN_TOPICS = 65_536;

    private final RedisBroker engine;
    private final RedisClusterAsyncCommands<String, byte[]> redis;
    private final RedisClusterCommands<String, byte[]> blocking;
    private final RedisKeys keys;
    private final RedisScripts scripts;
    private final RedisWriter writer;
    private final ExecutorService answers;
    private final boolean cluster;
    private final Limits limits;
    private final AppendRules rules;
    private final Retention defaultRetention;
    private final long idempotencyTtlMillis;
    /**
     * Topics this node knows to be in the registry, whose appends skip the topic limit's check (a set cleared when
     * it grows large: a topic missing from it costs one check).
     */
    private final Set<String> knownTopics = ConcurrentHashMap.newKeySet();

    RedisChanges(RedisBroker engine, RedisClusterCommands<String, byte[]> blocking, Limits limits,
                 Duration idempotencyTtl) {
        this.engine = engine;
        this.redis = engine.redis;
        this.blocking = blocking;
        this.keys = engine.keys;
        this.scripts = engine.scripts;
        this.writer = engine.writer;
        this.answers = engine.answers;
        this.cluster = engine.cluster;
        this.limits = limits;
        this.rules = new AppendRules(limits.maxMessageBytes(), limits.maxBatchMessages(),
                limits.maxIdempotencyKeyLength());
        this.defaultRetention = engine.defaultRetention;
        this.idempotencyTtlMillis = idempotencyTtl.toMillis();
    }

    CompletableFuture<PublishResult> append(String topic, String type, byte[] payload,
                                            Map<String, List<String>> headers, String idempotencyKey) {
        rules.check(topic, type, payload, headers, idempotencyKey);
        return appendAll(topic, type, List.of(payload), headers, idempotencyKey)
                .thenApply(r -> new PublishResult(topic, r.firstOffset(), r.time(), r.replayed()));
    }

    CompletableFuture<BatchResult> appendBatch(String topic, String type, List<byte[]> payloads,
                                               Map<String, List<String>> headers, String idempotencyKey) {
        rules.checkBatch(topic, type, payloads, headers, idempotencyKey);
        return appendAll(topic, type, List.copyOf(payloads), headers, idempotencyKey);
    }

    private CompletableFuture<BatchResult> appendAll(String topic, String type, List<byte[]> payloads,
                                                     Map<String, List<String>> headers, String idempotencyKey) {
        return writer.issue(() -> {
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

    CompletableFuture<TopicState> setRetention(String topic, Retention retention) {
        AppendRules.writableTopic(topic);
        return writer.issue(() -> {
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

    CompletableFuture<Boolean> delete(String topic) {
        AppendRules.writableTopic(topic);
        return writer.issue(() -> scripts.delete.<Long>run(redis, keys.meta(topic),
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
        return engine.awaitRedis(() -> listed) != null || engine.awaitRedis(() -> count) < limits.maxTopics()
                ? "1" : "0";
    }

    private void rememberTopic(String topic) {
        if (knownTopics.size() >= KNOWN_TOPICS) {
            knownTopics.clear();
        }
        knownTopics.add(topic);
    }

    void submit(Transaction tx) {
        writer.enqueue(new RedisWriter.Work() {
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
                CompletableFuture<Void> stored = writer.issueNow(() -> scripts.transaction.<List<Object>>run(redis,
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
}
