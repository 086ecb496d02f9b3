package dev.switchboard.log;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.broker.Message;
import dev.switchboard.broker.Retention;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Slice;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * The durable log on RocksDB: every topic's messages, the topics' records, the idempotency keys and other records
 * (jobs, queues), in four column families. All writes go through {@link #write} as one atomic batch, so a crash leaves either all of a group commit
 * or none of it. RocksDB appends each batch to its write-ahead log with one {@code write()} before it returns, so an
 * acknowledged batch survives {@code kill -9} whatever the fsync policy; {@code sync} adds the fsync.
 *
 * <p>Threads: writes come from the single log writer; reads may come from any thread. Every call blocks on disk, so
 * none may run on an event loop.
 */
public final class RocksLog implements AutoCloseable {
    private static final byte[] TOPIC_PREFIX = {'t'};
    private static final ObjectMapper JSON = new ObjectMapper();

    static {
        RocksDB.loadLibrary();
    }

    private final DBOptions dbOptions;
    private final ColumnFamilyOptions cfOptions;
    private final RocksDB db;
    private final ColumnFamilyHandle topics;
    private final ColumnFamilyHandle messages;
    private final ColumnFamilyHandle idempotency;
    private final ColumnFamilyHandle records;
    private final List<ColumnFamilyHandle> handles = new ArrayList<>();
    private final WriteOptions syncWrite = new WriteOptions().setSync(true);
    private final WriteOptions asyncWrite = new WriteOptions().setSync(false);

    private RocksLog(Path dir) throws RocksDBException, IOException {
        Files.createDirectories(dir);
        dbOptions = new DBOptions().setCreateIfMissing(true).setCreateMissingColumnFamilies(true)
                .setMaxBackgroundJobs(2).setKeepLogFileNum(3);
        cfOptions = new ColumnFamilyOptions().setCompressionType(CompressionType.LZ4_COMPRESSION)
                .setWriteBufferSize(32L * 1024 * 1024);
        List<ColumnFamilyDescriptor> descriptors = List.of(
                new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, cfOptions),
                new ColumnFamilyDescriptor("messages".getBytes(StandardCharsets.UTF_8), cfOptions),
                new ColumnFamilyDescriptor("idempotency".getBytes(StandardCharsets.UTF_8), cfOptions),
                new ColumnFamilyDescriptor("records".getBytes(StandardCharsets.UTF_8), cfOptions));
        db = RocksDB.open(dbOptions, dir.toString(), descriptors, handles);
        topics = handles.get(0);
        messages = handles.get(1);
        idempotency = handles.get(2);
        records = handles.get(3);
    }

    public static RocksLog open(Path dir) {
        try {
            return new RocksLog(dir);
        } catch (RocksDBException | IOException e) {
            throw new LogException("cannot open the log in " + dir + ": " + e.getMessage(), e);
        }
    }

    public List<StoredTopic> loadTopics() {
        List<StoredTopic> result = new ArrayList<>();
        try (RocksIterator it = db.newIterator(topics)) {
            for (it.seek(TOPIC_PREFIX); it.isValid() && it.key()[0] == 't'; it.next()) {
                result.add(decodeTopic(it.value()));
            }
        }
        return result;
    }

    /** Messages of a topic from offset {@code from} on, at most {@code maxCount}, stopping past {@code maxBytes}. */
    public List<Message> read(long topicId, String topicName, long from, int maxCount, long maxBytes) {
        List<Message> result = new ArrayList<>(Math.min(maxCount, 256));
        long bytes = 0;
        try (Slice upper = new Slice(MessageRecord.prefix(topicId + 1));
             ReadOptions options = new ReadOptions().setIterateUpperBound(upper);
             RocksIterator it = db.newIterator(messages, options)) {
            for (it.seek(MessageRecord.key(topicId, from)); it.isValid() && result.size() < maxCount; it.next()) {
                Message m = MessageRecord.decode(topicName, MessageRecord.offsetOf(it.key()), it.value());
                result.add(m);
                bytes += m.payload().length;
                if (bytes >= maxBytes) {
                    break;
                }
            }
            it.status();
        } catch (RocksDBException e) {
            throw new LogException("read failed: " + e.getMessage(), e);
        }
        return result;
    }

    /** Visits (offset, time, payload size) of a topic's messages from {@code from} on until the visitor says stop. */
    public void scan(long topicId, long from, RecordVisitor visitor) {
        try (Slice upper = new Slice(MessageRecord.prefix(topicId + 1));
             ReadOptions options = new ReadOptions().setIterateUpperBound(upper);
             RocksIterator it = db.newIterator(messages, options)) {
            for (it.seek(MessageRecord.key(topicId, from)); it.isValid(); it.next()) {
                byte[] value = it.value();
                if (!visitor.visit(MessageRecord.offsetOf(it.key()), MessageRecord.timeOf(value),
                        MessageRecord.payloadLength(value))) {
                    return;
                }
            }
        }
    }

    @FunctionalInterface
    public interface RecordVisitor {
        /** @return false to stop */
        boolean visit(long offset, long time, int payloadBytes);
    }

    /** The offset and time an idempotency key was first published with, or null. */
    public long[] idempotencyHit(long topicId, String key) {
        try {
            byte[] v = db.get(idempotency, idempotencyKey(topicId, key));
            if (v == null) {
                return null;
            }
            ByteBuffer b = ByteBuffer.wrap(v);
            return new long[] {b.getLong(), b.getLong()};
        } catch (RocksDBException e) {
            throw new LogException("idempotency lookup failed: " + e.getMessage(), e);
        }
    }

    /** Deletes idempotency keys recorded before {@code cutoff}; returns how many. */
    public int expireIdempotencyKeys(long cutoff) {
        int removed = 0;
        try (RocksIterator it = db.newIterator(idempotency); WriteBatch batch = new WriteBatch()) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                if (ByteBuffer.wrap(it.value(), 8, 8).getLong() < cutoff) {
                    batch.delete(idempotency, it.key());
                    removed++;
                }
            }
            if (removed > 0) {
                db.write(asyncWrite, batch);
            }
        } catch (RocksDBException e) {
            throw new LogException("idempotency expiry failed: " + e.getMessage(), e);
        }
        return removed;
    }

    /** A record outside topics (jobs, queues), or null. */
    public byte[] getRecord(String key) {
        try {
            return db.get(records, key.getBytes(StandardCharsets.UTF_8));
        } catch (RocksDBException e) {
            throw new LogException("record read failed: " + e.getMessage(), e);
        }
    }

    /** Visits every record whose key starts with {@code prefix}. */
    public void scanRecords(String prefix, java.util.function.BiConsumer<String, byte[]> visitor) {
        byte[] p = prefix.getBytes(StandardCharsets.UTF_8);
        try (RocksIterator it = db.newIterator(records)) {
            for (it.seek(p); it.isValid() && startsWith(it.key(), p); it.next()) {
                visitor.accept(new String(it.key(), StandardCharsets.UTF_8), it.value());
            }
        }
    }

    private static boolean startsWith(byte[] key, byte[] prefix) {
        return key.length >= prefix.length && Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
    }

    public Batch newBatch() {
        return new Batch();
    }

    public void write(Batch batch, boolean sync) {
        try {
            db.write(sync ? syncWrite : asyncWrite, batch.batch);
        } catch (RocksDBException e) {
            throw new LogException("write failed: " + e.getMessage(), e);
        }
    }

    /** Fsyncs everything written so far (the {@code batch} fsync policy's timer calls this). */
    public void sync() {
        try {
            db.flushWal(true);
        } catch (RocksDBException e) {
            throw new LogException("fsync failed: " + e.getMessage(), e);
        }
    }

    /** Changes to apply atomically. Not thread-safe: built and written by the log writer. */
    public final class Batch implements AutoCloseable {
        private final WriteBatch batch = new WriteBatch();

        public void putMessage(long topicId, long offset, long time, String type, byte[] payload) {
            try {
                batch.put(messages, MessageRecord.key(topicId, offset), MessageRecord.value(time, type, payload));
            } catch (RocksDBException e) {
                throw new LogException("batch put failed: " + e.getMessage(), e);
            }
        }

        public void putTopic(StoredTopic topic) {
            try {
                batch.put(topics, topicKey(topic.id()), encodeTopic(topic));
            } catch (RocksDBException e) {
                throw new LogException("batch put failed: " + e.getMessage(), e);
            }
        }

        public void putIdempotencyKey(long topicId, String key, long offset, long time) {
            try {
                batch.put(idempotency, idempotencyKey(topicId, key),
                        ByteBuffer.allocate(16).putLong(offset).putLong(time).array());
            } catch (RocksDBException e) {
                throw new LogException("batch put failed: " + e.getMessage(), e);
            }
        }

        /** Drops offsets {@code [from, toExclusive)} of a topic. */
        public void deleteMessages(long topicId, long from, long toExclusive) {
            try {
                batch.deleteRange(messages, MessageRecord.key(topicId, from), MessageRecord.key(topicId, toExclusive));
            } catch (RocksDBException e) {
                throw new LogException("batch delete failed: " + e.getMessage(), e);
            }
        }

        public void deleteTopic(long topicId) {
            try {
                batch.delete(topics, topicKey(topicId));
                batch.deleteRange(messages, MessageRecord.prefix(topicId), MessageRecord.prefix(topicId + 1));
                batch.deleteRange(idempotency, MessageRecord.prefix(topicId), MessageRecord.prefix(topicId + 1));
            } catch (RocksDBException e) {
                throw new LogException("batch delete failed: " + e.getMessage(), e);
            }
        }

        public void putRecord(String key, byte[] value) {
            try {
                batch.put(records, key.getBytes(StandardCharsets.UTF_8), value);
            } catch (RocksDBException e) {
                throw new LogException("batch put failed: " + e.getMessage(), e);
            }
        }

        public void deleteRecord(String key) {
            try {
                batch.delete(records, key.getBytes(StandardCharsets.UTF_8));
            } catch (RocksDBException e) {
                throw new LogException("batch delete failed: " + e.getMessage(), e);
            }
        }

        public boolean isEmpty() {
            return batch.count() == 0;
        }

        @Override
        public void close() {
            batch.close();
        }
    }

    @Override
    public void close() {
        try {
            db.flushWal(true);
        } catch (RocksDBException ignored) {
            // closing anyway; the WAL was written
        }
        syncWrite.close();
        asyncWrite.close();
        for (ColumnFamilyHandle h : handles) {
            h.close();
        }
        db.close();
        cfOptions.close();
        dbOptions.close();
    }

    private static byte[] topicKey(long id) {
        return ByteBuffer.allocate(9).put((byte) 't').putLong(id).array();
    }

    private static byte[] idempotencyKey(long topicId, String key) {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + k.length).putLong(topicId).put(k).array();
    }

    private static byte[] encodeTopic(StoredTopic t) {
        ObjectNode n = JSON.createObjectNode()
                .put("id", t.id()).put("name", t.name()).put("created", t.created())
                .put("first", t.firstOffset()).put("last", t.lastOffset()).put("bytes", t.bytes());
        Retention r = t.retention();
        if (r.maxMessages() != null) n.put("maxMessages", r.maxMessages());
        if (r.maxAge() != null) n.put("maxAgeMs", r.maxAge().toMillis());
        if (r.maxBytes() != null) n.put("maxBytes", r.maxBytes());
        try {
            return JSON.writeValueAsBytes(n);
        } catch (IOException e) {
            throw new LogException("cannot encode topic record", e);
        }
    }

    private static StoredTopic decodeTopic(byte[] bytes) {
        try {
            JsonNode n = JSON.readTree(bytes);
            Retention r = new Retention(
                    n.has("maxMessages") ? n.get("maxMessages").asLong() : null,
                    n.has("maxAgeMs") ? Duration.ofMillis(n.get("maxAgeMs").asLong()) : null,
                    n.has("maxBytes") ? n.get("maxBytes").asLong() : null);
            return new StoredTopic(n.get("id").asLong(), n.get("name").asText(), n.get("created").asLong(), r,
                    n.get("first").asLong(), n.get("last").asLong(), n.get("bytes").asLong());
        } catch (IOException e) {
            throw new LogException("corrupt topic record: " + Arrays.toString(bytes), e);
        }
    }
}
