package dev.switchboard.engine.redis;

import static dev.switchboard.engine.redis.RedisBroker.closedRefusal;
import static dev.switchboard.engine.redis.RedisBroker.number;
import static dev.switchboard.engine.redis.RedisBroker.text;
import static dev.switchboard.engine.redis.RedisBroker.unavailable;

import dev.switchboard.broker.Broker.Record;
import dev.switchboard.broker.Message;
import dev.switchboard.broker.MessageHeaders;
import dev.switchboard.broker.Retention;
import dev.switchboard.broker.TopicState;
import io.lettuce.core.KeyValue;
import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The Redis engine's reads, which go to Redis directly (not through the writer): messages, topics' states, records,
 * and the ranges the watchers catch up with. Answers to callers complete on the engine's answer thread.
 */
final class RedisReads {
    private static final int READ_CHUNK = 64;
    private static final int CATCH_UP_CHUNK = 1024;

    private final RedisBroker engine;
    private final RedisClusterAsyncCommands<String, byte[]> redis;
    private final RedisKeys keys;

    RedisReads(RedisBroker engine) {
        this.engine = engine;
        this.redis = engine.redis;
        this.keys = engine.keys;
    }

    CompletableFuture<List<Message>> read(String topic, long from, int maxCount, long maxBytes) {
        if (engine.isClosed()) {
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
        }, engine.answers);
    }

    private static Message message(String topic, StreamMessage<String, byte[]> e) {
        String id = e.getId();
        long offset = Long.parseLong(id.substring(0, id.indexOf('-')));
        Map<String, byte[]> body = e.getBody();
        byte[] headers = body.get("h");
        return new Message(topic, offset, Long.parseLong(text(body.get("t"))), text(body.get("y")), body.get("p"),
                headers == null ? MessageHeaders.NONE : MessageHeaders.decode(headers, 0, headers.length));
    }

    /** Blocks for one round trip: the contract's positions are synchronous ({@link #stateAsync} is not). */
    Optional<TopicState> state(String topic) {
        return engine.awaitRedis(() -> stateOf(topic));
    }

    CompletableFuture<Optional<TopicState>> stateAsync(String topic) {
        return answered(() -> stateOf(topic));
    }

    private CompletableFuture<Optional<TopicState>> stateOf(String topic) {
        return redis.hgetall(keys.meta(topic)).toCompletableFuture().thenApply(m -> m.isEmpty() ? Optional.empty()
                : Optional.of(new TopicState(topic, number(m.get("epoch")), number(m.get("first")),
                number(m.get("last")), number(m.get("bytes")), number(m.get("created")),
                new Retention(optionalNumber(m.get("rmax")), optionalNumber(m.get("rage")) == null ? null
                        : Duration.ofMillis(optionalNumber(m.get("rage"))), optionalNumber(m.get("rbytes"))))));
    }

    List<TopicState> topics() {
        return engine.awaitRedis(this::allTopics);
    }

    CompletableFuture<List<TopicState>> topicsAsync() {
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

    int topicCount() {
        return Math.toIntExact(engine.awaitRedis(() -> redis.zcard(keys.registry()).toCompletableFuture()));
    }

    CompletableFuture<byte[]> record(String key) {
        return answered(() -> redis.get(keys.record(key)).toCompletableFuture());
    }

    /** A read's answer on the answer thread, never on Lettuce's loop; a failure as a refusal. */
    private <T> CompletableFuture<T> answered(Supplier<CompletableFuture<T>> call) {
        if (engine.isClosed()) {
            return CompletableFuture.failedFuture(closedRefusal());
        }
        try {
            return call.get().handleAsync((v, e) -> {
                if (e != null) {
                    throw unavailable(e);
                }
                return v;
            }, engine.answers);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(unavailable(e));
        }
    }

    /**
     * Records are indexed per hash tag (a topic's, or the records' own): every tag listed as holding records is
     * asked, at once, and the answers merged in key order.
     */
    List<Record> recordsWithPrefix(String prefix) {
        byte[] from = prefix.getBytes(StandardCharsets.UTF_8);
        byte[] to = Arrays.copyOf(from, from.length + 1);
        to[from.length] = (byte) 0xff; // above every UTF-8 byte: the end of the keys that start with the prefix
        List<byte[]> tags = engine.awaitRedis(() -> redis.zrange(keys.recordTags(), 0, -1).toCompletableFuture());
        List<CompletableFuture<List<byte[]>>> perTag = tags.stream().map(tag -> redis.zrangebylex(
                keys.records(text(tag)), Range.create(from, to)).toCompletableFuture()).toList();
        List<byte[]> names = new ArrayList<>();
        for (CompletableFuture<List<byte[]>> found : perTag) {
            names.addAll(engine.awaitRedis(() -> found));
        }
        if (names.isEmpty()) {
            return List.of();
        }
        List<String> recordKeys = names.stream().map(RedisBroker::text).sorted().toList();
        var values = engine.awaitRedis(() -> redis.mget(recordKeys.stream().map(keys::record).toArray(String[]::new))
                .toCompletableFuture());
        List<Record> records = new ArrayList<>(names.size());
        for (int i = 0; i < recordKeys.size(); i++) {
            if (values.get(i).hasValue()) {
                records.add(new Record(recordKeys.get(i), values.get(i).getValue()));
            }
        }
        return records;
    }

    // ---- for the watchers, on their thread ----

    /** The topic's epoch and positions as the watchers track them, or null when there is no such topic. */
    RedisWatchers.Position position(String topic) {
        List<KeyValue<String, byte[]>> f = engine.awaitRedis(() -> redis.hmget(keys.meta(topic), "epoch",
                "first", "last").toCompletableFuture());
        if (!f.get(0).hasValue()) {
            return null;
        }
        return new RedisWatchers.Position(text(f.get(0).getValue()), number(f.get(1).getValue()),
                number(f.get(2).getValue()));
    }

    /** Several topics' messages, {@code topic → [from, to]}, read at once (one round trip). */
    Map<String, NavigableMap<Long, Message>> ranges(Map<String, long[]> ranges) {
        Map<String, CompletableFuture<List<StreamMessage<String, byte[]>>>> reads = new HashMap<>();
        ranges.forEach((topic, r) -> reads.put(topic, redis.xrange(keys.stream(topic),
                Range.create(r[0] + "-0", r[1] + "-0")).toCompletableFuture()));
        Map<String, NavigableMap<Long, Message>> read = new HashMap<>();
        reads.forEach((topic, f) -> {
            NavigableMap<Long, Message> messages = new TreeMap<>();
            for (StreamMessage<String, byte[]> e : engine.awaitRedis(() -> f)) {
                Message m = message(topic, e);
                messages.put(m.offset(), m);
            }
            read.put(topic, messages);
        });
        return read;
    }

    /**
     * Messages {@code from..to}, {@code CATCH_UP_CHUNK} at a time (a catch-up after an outage may span many).
     */
    void range(String topic, long from, long to, Consumer<Message> each) {
        long next = from;
        while (next <= to) {
            long start = next;
            List<StreamMessage<String, byte[]>> entries = engine.awaitRedis(() -> redis.xrange(keys.stream(topic),
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

    private static Long optionalNumber(byte[] bytes) {
        return bytes == null || bytes.length == 0 ? null : Long.parseLong(text(bytes));
    }
}
