package dev.switchboard.log;

import dev.switchboard.broker.BatchResult;
import dev.switchboard.broker.Message;
import dev.switchboard.broker.MessageHeaders;
import dev.switchboard.broker.Transaction;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
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
    final List<Message> appended;
    /** The topic of each message in {@link #appended}, at the same index (a list: a map cost more per publish). */
    final List<StoredTopicState> appendedTo;
    final LinkedHashSet<StoredTopicState> touched = new LinkedHashSet<>();
    private final Map<String, BatchResult> keysInBatch = new HashMap<>();
    /** Records staged here, a null value for a deletion. */
    private final Map<String, byte[]> records = new HashMap<>();
    /** Topics this commit deletes (stored ones, and ones it created itself), in order. */
    final LinkedHashSet<StoredTopicState> dropped = new LinkedHashSet<>();
    private final Set<String> deletedNames = new HashSet<>();
    /** Topics created again after their deletion in this commit: registered once it is written. */
    final Map<String, StoredTopicState> recreated = new HashMap<>();

    /** @param expected how many messages the commit will likely stage (its lists are sized for them) */
    StagedCommit(EmbeddedBroker broker, RocksLog store, long idempotencyTtlMillis, RocksLog.Batch batch, long now,
                 int expected) {
        this.appended = new ArrayList<>(expected);
        this.appendedTo = new ArrayList<>(expected);
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
        return append(topic, type, payload, MessageHeaders.NONE);
    }

    @Override
    public Message append(String topic, String type, byte[] payload, long time) {
        return append(current(topic), type, payload, MessageHeaders.NONE, time);
    }

    Message append(String topic, String type, byte[] payload, Map<String, List<String>> headers) {
        return append(current(topic), type, payload, headers);
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

    private Message append(StoredTopicState t, String type, byte[] payload, Map<String, List<String>> headers) {
        return append(t, type, payload, headers, now);
    }

    private Message append(StoredTopicState t, String type, byte[] payload, Map<String, List<String>> headers,
                           long at) {
        long offset = ++t.stagedLast;
        long time = Math.max(at, t.lastTime);
        t.lastTime = time;
        t.stagedBytes += payload.length;
        batch.putMessage(t.stagedId, offset, time, type, payload, headers);
        Message m = new Message(t.name(), offset, time, type, payload, headers);
        appended.add(m);
        appendedTo.add(t);
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

    /** Messages of a batch publish without an idempotency key, at contiguous offsets. */
    BatchResult appendAll(String topic, String type, List<byte[]> payloads, Map<String, List<String>> headers) {
        return appendAll(current(topic), type, payloads, headers);
    }

    private BatchResult appendAll(StoredTopicState t, String type, List<byte[]> payloads,
                                  Map<String, List<String>> headers) {
        Message first = append(t, type, payloads.getFirst(), headers);
        Message last = first;
        for (int i = 1; i < payloads.size(); i++) {
            last = append(t, type, payloads.get(i), headers);
        }
        // One commit has one time (times never go back within a topic): every message of the batch shares it.
        return new BatchResult(t.name(), first.offset(), last.offset(), first.time(), false);
    }

    /**
     * A publish (one message or a batch) with an idempotency key: the messages published earlier with that key, or
     * newly staged ones.
     */
    BatchResult appendOnce(String topic, String type, List<byte[]> payloads, Map<String, List<String>> headers,
                           String key) {
        StoredTopicState t = current(topic);
        String batchKey = t.stagedId + "/" + key;
        BatchResult earlier = keysInBatch.get(batchKey);
        if (earlier != null) {
            return new BatchResult(earlier.topic(), earlier.firstOffset(), earlier.lastOffset(), earlier.time(), true);
        }
        RocksLog.IdempotencyHit hit = store.idempotencyHit(t.stagedId, key);
        if (hit != null && hit.time() >= now - idempotencyTtlMillis) {
            return new BatchResult(t.name(), hit.firstOffset(), hit.lastOffset(), hit.time(), true);
        }
        BatchResult staged = appendAll(t, type, payloads, headers);
        batch.putIdempotencyKey(t.stagedId, key, staged.firstOffset(), staged.lastOffset(), staged.time());
        keysInBatch.put(batchKey, staged);
        return staged;
    }
}
