package dev.switchboard.engine.redis;

import dev.switchboard.broker.Message;
import dev.switchboard.broker.Transaction;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import io.lettuce.core.KeyValue;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A transaction being staged on the writer thread. Offsets are promised at staging time, from the positions read
 * here; transaction.lua stores the whole change only if every topic it touches is still where it was read (another
 * node may have appended since), so a promised offset is never wrong: the transaction fails whole instead.
 */
final class RedisStage implements Transaction.Stage {
    private final RedisClusterCommands<String, byte[]> redis;
    private final RedisKeys keys;
    private final long now;
    /** Per topic touched, in first-touch order: what it was when read (epoch or "", last offset). */
    private final Map<String, String[]> readAs = new LinkedHashMap<>();
    /** Per topic touched: the last offset given out by this stage. */
    private final Map<String, Long> last = new HashMap<>();
    private final Map<String, Optional<byte[]>> staged = new HashMap<>();
    private final List<byte[]> operations = new ArrayList<>();
    /** The hash tags of the records this stage changes, in first-change order. */
    private final Set<String> recordTags = new LinkedHashSet<>();

    RedisStage(RedisClusterCommands<String, byte[]> redis, RedisKeys keys, long now) {
        this.redis = redis;
        this.keys = keys;
        this.now = now;
    }

    @Override
    public long now() {
        return now;
    }

    @Override
    public Message append(String topic, String type, byte[] payload) {
        touch(topic);
        long offset = last.merge(topic, 1L, Long::sum);
        operations.addAll(RedisKeys.args("A", topic, type, payload));
        return new Message(topic, offset, now, type, payload);
    }

    @Override
    public void putRecord(String key, byte[] value) {
        staged.put(key, Optional.of(value));
        recordTags.add(RedisKeys.recordTag(key));
        operations.addAll(RedisKeys.args("P", key, value));
    }

    @Override
    public void deleteRecord(String key) {
        staged.put(key, Optional.empty());
        recordTags.add(RedisKeys.recordTag(key));
        operations.addAll(RedisKeys.args("X", key));
    }

    @Override
    public byte[] record(String key) {
        Optional<byte[]> here = staged.get(key);
        if (here != null) {
            return here.orElse(null);
        }
        try {
            return redis.get(keys.record(key));
        } catch (RuntimeException e) {
            throw RedisBroker.unavailable(e);
        }
    }

    @Override
    public void deleteTopic(String topic) {
        touch(topic);
        last.put(topic, 0L); // a message staged after this starts the topic again at 1
        operations.addAll(RedisKeys.args("D", topic));
    }

    private void touch(String topic) {
        if (readAs.containsKey(topic)) {
            return;
        }
        List<KeyValue<String, byte[]>> f;
        try {
            f = redis.hmget(keys.meta(topic), "epoch", "last");
        } catch (RuntimeException e) {
            throw RedisBroker.unavailable(e);
        }
        String epoch = f.get(0).hasValue() ? RedisBroker.text(f.get(0).getValue()) : "";
        String lastOffset = f.get(1).hasValue() ? RedisBroker.text(f.get(1).getValue()) : "0";
        readAs.put(topic, new String[] {epoch, lastOffset});
        last.put(topic, Long.parseLong(lastOffset));
    }

    boolean isEmpty() {
        return operations.isEmpty();
    }

    /** A key of each hash slot the transaction changes: each topic's, and each record tag's index. */
    List<String> slotKeys() {
        List<String> slotKeys = new ArrayList<>(readAs.size() + recordTags.size());
        readAs.keySet().forEach(topic -> slotKeys.add(keys.meta(topic)));
        recordTags.forEach(tag -> slotKeys.add(keys.records(tag)));
        return slotKeys;
    }

    /**
     * The refusal of a transaction that spans hash slots on Redis Cluster, where a script runs in one slot: one that
     * changes two unrelated topics, or a topic and records that belong to no topic or to another one.
     */
    ApiException spansSlots() {
        return new ApiException(ErrorCode.LIMIT_EXCEEDED, "on Redis Cluster a change must stay in one hash slot; "
                + "this one changes " + (readAs.isEmpty() ? "" : "topics " + readAs.keySet()
                + (recordTags.isEmpty() ? "" : " and ")) + (recordTags.isEmpty() ? "" : "records") + ": only a "
                + "topic, the topics derived from it and its records change together there (docs/cluster.md)");
    }

    /** transaction.lua's arguments after the common ones: the topics as read, then the operations. */
    List<byte[]> arguments() {
        List<byte[]> args = new ArrayList<>(RedisKeys.args(readAs.size()));
        readAs.forEach((topic, as) -> args.addAll(RedisKeys.args(topic, as[0], as[1])));
        args.addAll(operations);
        return args;
    }

    /** The refusal of a transaction that another node's change overtook. */
    static ApiException conflict(String topic) {
        return ApiException.unavailable("topic '" + topic + "' changed on another node while this change was "
                + "prepared; retry");
    }
}
