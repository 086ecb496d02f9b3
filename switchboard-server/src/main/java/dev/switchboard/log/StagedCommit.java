package dev.switchboard.log;

import dev.switchboard.broker.Message;
import dev.switchboard.broker.PublishResult;
import dev.switchboard.broker.Transaction;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One group commit being assembled by the log writer: staged messages in order, the topics they touch, the records
 * and idempotency keys staged so far, the topics deleted. Threads: the log writer only.
 */
final class StagedCommit implements Transaction.Stage {
    private final EmbeddedBroker broker;
    private final RocksLog store;
    private final long idempotencyTtlMillis;
    final long now;
    final RocksLog.Batch batch;
    final List<Message> appended = new ArrayList<>();
    final Map<Message, StoredTopicState> topicOf = new IdentityHashMap<>();
    final LinkedHashSet<StoredTopicState> touched = new LinkedHashSet<>();
    private final Map<String, Message> keysInBatch = new HashMap<>();
    /** Records staged here, a null value for a deletion. */
    private final Map<String, byte[]> records = new HashMap<>();
    /** Topics this commit deletes (stored ones, and ones it created itself), in order. */
    final LinkedHashSet<StoredTopicState> dropped = new LinkedHashSet<>();
    private final Set<String> deletedNames = new HashSet<>();
    /** Topics created again after their deletion in this commit: registered once it is written. */
    final Map<String, StoredTopicState> recreated = new HashMap<>();

    StagedCommit(EmbeddedBroker broker, RocksLog store, long idempotencyTtlMillis, RocksLog.Batch batch, long now) {
        this.broker = broker;
        this.store = store;
        this.idempotencyTtlMillis = idempotencyTtlMillis;
        this.batch = batch;
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
            return broker.registerForWrite(name, now);
        }
        t = broker.createAgain(name, now);
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
