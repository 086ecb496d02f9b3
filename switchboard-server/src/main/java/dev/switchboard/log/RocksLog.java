package dev.switchboard.log;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.broker.Broker;
import dev.switchboard.broker.Message;
import dev.switchboard.broker.MessageHeaders;
import dev.switchboard.broker.Retention;
import dev.switchboard.wire.TopicNames;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.locks.ReentrantReadWriteLock;
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
    /** Batches are built on one thread each (the log writer's in the server): its encoder is that thread's. */
    private static final ThreadLocal<MessageRecord.Encoder> ENCODERS =
            ThreadLocal.withInitial(MessageRecord.Encoder::new);

    static {
        RocksDB.loadLibrary();
    }

    private final Path dir;
    private final DBOptions dbOptions;
    private final ColumnFamilyOptions cfOptions;
    private final WriteOptions syncWrite = new WriteOptions().setSync(true);
    private final WriteOptions asyncWrite = new WriteOptions().setSync(false);
    /**
     * Every use of the database holds the read lock; {@link #reopen} holds the write lock, so no thread uses a handle
     * while it is closed (a closed handle is freed native memory).
     */
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private Open db;

    /** An open database and its column families. */
    private static final class Open {
        final RocksDB db;
        final List<ColumnFamilyHandle> handles;
        final ColumnFamilyHandle topics;
        final ColumnFamilyHandle messages;
        final ColumnFamilyHandle idempotency;
        final ColumnFamilyHandle records;

        Open(RocksDB db, List<ColumnFamilyHandle> handles) {
            this.db = db;
            this.handles = handles;
            this.topics = handles.get(0);
            this.messages = handles.get(1);
            this.idempotency = handles.get(2);
            this.records = handles.get(3);
        }

        void close() {
            handles.forEach(ColumnFamilyHandle::close);
            db.close();
        }
    }

    private RocksLog(Path dir) throws RocksDBException, IOException {
        Files.createDirectories(dir);
        this.dir = dir;
        // Opening replays the write-ahead log into memory and leaves it there (the WAL is kept until the memtable is
        // flushed as usual): flushing it at open would need as much free space as it holds, so a store reopened
        // after its disk filled up (see reopen) would stay shut until that much room was free.
        dbOptions = new DBOptions().setCreateIfMissing(true).setCreateMissingColumnFamilies(true)
                .setMaxBackgroundJobs(2).setKeepLogFileNum(3).setAvoidFlushDuringRecovery(true);
        cfOptions = new ColumnFamilyOptions().setCompressionType(CompressionType.LZ4_COMPRESSION)
                .setWriteBufferSize(32L * 1024 * 1024);
        db = openDb();
    }

    private Open openDb() throws RocksDBException {
        List<ColumnFamilyDescriptor> descriptors = List.of(
                new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, cfOptions),
                new ColumnFamilyDescriptor("messages".getBytes(StandardCharsets.UTF_8), cfOptions),
                new ColumnFamilyDescriptor("idempotency".getBytes(StandardCharsets.UTF_8), cfOptions),
                new ColumnFamilyDescriptor("records".getBytes(StandardCharsets.UTF_8), cfOptions));
        List<ColumnFamilyHandle> handles = new ArrayList<>();
        return new Open(RocksDB.open(dbOptions, dir.toString(), descriptors, handles), handles);
    }

    public static RocksLog open(Path dir) {
        try {
            return new RocksLog(dir);
        } catch (RocksDBException | IOException e) {
            throw new LogException("cannot open the log in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** A use of the open database, under the read lock. */
    @FunctionalInterface
    private interface Use<T> {
        T on(Open db) throws RocksDBException;
    }

    private <T> T use(String what, Use<T> use) {
        lock.readLock().lock();
        try {
            if (db == null) {
                throw new LogException(what + " failed: the store is closed", null);
            }
            return use.on(db);
        } catch (RocksDBException e) {
            throw new LogException(what + " failed: " + e.getMessage(), e);
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Closes and opens the database again. A write that failed (no space left, an I/O error) leaves RocksDB in an
     * error state in which it refuses every write until the process restarts; RocksJava offers no {@code Resume()},
     * so the log writer reopens it once the cause may be gone. Only the log writer calls this, between batches.
     */
    public void reopen() {
        lock.writeLock().lock();
        try {
            if (db != null) {
                db.close();
                db = null;
            }
            db = openDb();
        } catch (RocksDBException e) {
            throw new LogException("reopen failed: " + e.getMessage(), e);
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Bytes free for the store on its file system. */
    public long usableSpace() {
        try {
            return Files.getFileStore(dir).getUsableSpace();
        } catch (IOException e) {
            return 0;
        }
    }

    public List<StoredTopic> loadTopics() {
        return use("loading topics", o -> {
            List<StoredTopic> result = new ArrayList<>();
            try (RocksIterator it = o.db.newIterator(o.topics)) {
                for (it.seek(TOPIC_PREFIX); it.isValid() && it.key()[0] == 't'; it.next()) {
                    result.add(decodeTopic(it.value()));
                }
            }
            return result;
        });
    }

    /** Messages of a topic from offset {@code from} on, at most {@code maxCount}, stopping past {@code maxBytes}. */
    /**
     * Messages from {@code from} up to {@code last}: the log may already hold later ones that are not yet answered
     * (under fsync=always, until their sync completes), which no reader may see.
     */
    public List<Message> read(long topicId, String topicName, long from, long last, int maxCount, long maxBytes) {
        return use("read", o -> {
            List<Message> result = new ArrayList<>(Math.min(maxCount, 256));
            long bytes = 0;
            try (Slice upper = new Slice(MessageRecord.prefix(topicId + 1));
                 ReadOptions options = new ReadOptions().setIterateUpperBound(upper);
                 RocksIterator it = o.db.newIterator(o.messages, options)) {
                for (it.seek(MessageRecord.key(topicId, from)); it.isValid() && result.size() < maxCount; it.next()) {
                    long offset = MessageRecord.offsetOf(it.key());
                    if (offset > last) {
                        break;
                    }
                    Message m = MessageRecord.decode(topicName, offset, it.value());
                    result.add(m);
                    bytes += m.payload().length;
                    if (bytes >= maxBytes) {
                        break;
                    }
                }
                it.status();
            }
            return result;
        });
    }

    /** Visits (offset, time, payload size) of a topic's messages from {@code from} on until the visitor says stop. */
    public void scan(long topicId, long from, RecordVisitor visitor) {
        use("scan", o -> {
            try (Slice upper = new Slice(MessageRecord.prefix(topicId + 1));
                 ReadOptions options = new ReadOptions().setIterateUpperBound(upper);
                 RocksIterator it = o.db.newIterator(o.messages, options)) {
                for (it.seek(MessageRecord.key(topicId, from)); it.isValid(); it.next()) {
                    byte[] value = it.value();
                    if (!visitor.visit(MessageRecord.offsetOf(it.key()), MessageRecord.timeOf(value),
                            MessageRecord.payloadLength(value))) {
                        break;
                    }
                }
            }
            return null;
        });
    }

    @FunctionalInterface
    public interface RecordVisitor {
        /** @return false to stop */
        boolean visit(long offset, long time, int payloadBytes);
    }

    /** The messages an idempotency key was first published with: a range of offsets and their time. */
    public record IdempotencyHit(long firstOffset, long lastOffset, long time) {}

    /**
     * What an idempotency key was first published with, or null. A key's value is its first offset and time (16
     * bytes), followed by its last offset only when a batch stored more than one message (24 bytes): single
     * publishes, the common case, keep the small form, and values stored before batches existed read as they are.
     */
    public IdempotencyHit idempotencyHit(long topicId, String key) {
        byte[] v = use("idempotency lookup", o -> o.db.get(o.idempotency, idempotencyKey(topicId, key)));
        if (v == null) {
            return null;
        }
        ByteBuffer b = ByteBuffer.wrap(v);
        long first = b.getLong();
        long time = b.getLong();
        return new IdempotencyHit(first, b.hasRemaining() ? b.getLong() : first, time);
    }

    /** Deletes idempotency keys recorded before {@code cutoff}; returns how many. */
    public int expireIdempotencyKeys(long cutoff) {
        return use("idempotency expiry", o -> {
            int removed = 0;
            try (RocksIterator it = o.db.newIterator(o.idempotency); WriteBatch batch = new WriteBatch()) {
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    if (ByteBuffer.wrap(it.value(), 8, 8).getLong() < cutoff) {
                        batch.delete(o.idempotency, it.key());
                        removed++;
                    }
                }
                if (removed > 0) {
                    o.db.write(asyncWrite, batch);
                }
            }
            return removed;
        });
    }

    /** A record outside topics (jobs, queues), or null. */
    public byte[] getRecord(String key) {
        return use("record read", o -> o.db.get(o.records, key.getBytes(StandardCharsets.UTF_8)));
    }

    /** Every record whose key starts with {@code prefix}, in key order. */
    public List<Broker.Record> recordsWithPrefix(String prefix) {
        byte[] p = prefix.getBytes(StandardCharsets.UTF_8);
        return use("record scan", o -> {
            List<Broker.Record> result = new ArrayList<>();
            try (RocksIterator it = o.db.newIterator(o.records)) {
                for (it.seek(p); it.isValid() && startsWith(it.key(), p); it.next()) {
                    result.add(new Broker.Record(new String(it.key(), StandardCharsets.UTF_8), it.value()));
                }
            }
            return result;
        });
    }

    private static boolean startsWith(byte[] key, byte[] prefix) {
        return key.length >= prefix.length && Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
    }

    /** A batch to build on the log writer's thread; {@link #reopen} must not run until it is written. */
    public Batch newBatch() {
        lock.readLock().lock();
        try {
            if (db == null) {
                throw new LogException("the store is closed", null);
            }
            return new Batch(db);
        } finally {
            lock.readLock().unlock();
        }
    }

    public void write(Batch batch, boolean sync) {
        use("write", o -> {
            o.db.write(sync ? syncWrite : asyncWrite, batch.batch);
            return null;
        });
    }

    /** Fsyncs everything written so far (the {@code batch} fsync policy's timer calls this). */
    public void sync() {
        use("fsync", o -> {
            o.db.flushWal(true);
            return null;
        });
    }

    /** Changes to apply atomically. Not thread-safe: built and written by the log writer. */
    public final class Batch implements AutoCloseable {
        private final WriteBatch batch = new WriteBatch();
        private final Open o;
        private final MessageRecord.Encoder encoder = ENCODERS.get();

        private Batch(Open o) {
            this.o = o;
        }

        public void putMessage(long topicId, long offset, long time, String type, byte[] payload) {
            putMessage(topicId, offset, time, type, payload, MessageHeaders.NONE);
        }

        public void putMessage(long topicId, long offset, long time, String type, byte[] payload,
                               Map<String, List<String>> headers) {
            try {
                ByteBuffer value = encoder.directValue(time, type, payload, headers);
                if (value == null) {
                    batch.put(o.messages, MessageRecord.key(topicId, offset),
                            MessageRecord.value(time, type, payload, headers));
                } else {
                    batch.put(o.messages, encoder.key(topicId, offset), value);
                }
            } catch (RocksDBException e) {
                throw new LogException("batch put failed: " + e.getMessage(), e);
            }
        }

        public void putTopic(StoredTopic topic) {
            try {
                batch.put(o.topics, topicKey(topic.id()), encodeTopic(topic));
            } catch (RocksDBException e) {
                throw new LogException("batch put failed: " + e.getMessage(), e);
            }
        }

        /** Records an idempotency key's messages, offsets {@code first..last}; see {@link #idempotencyHit}. */
        public void putIdempotencyKey(long topicId, String key, long first, long last, long time) {
            ByteBuffer value = ByteBuffer.allocate(first == last ? 16 : 24).putLong(first).putLong(time);
            if (first != last) {
                value.putLong(last);
            }
            try {
                batch.put(o.idempotency, idempotencyKey(topicId, key), value.array());
            } catch (RocksDBException e) {
                throw new LogException("batch put failed: " + e.getMessage(), e);
            }
        }

        /** Drops offsets {@code [from, toExclusive)} of a topic. */
        public void deleteMessages(long topicId, long from, long toExclusive) {
            try {
                batch.deleteRange(o.messages, MessageRecord.key(topicId, from), MessageRecord.key(topicId, toExclusive));
            } catch (RocksDBException e) {
                throw new LogException("batch delete failed: " + e.getMessage(), e);
            }
        }

        public void deleteTopic(long topicId) {
            try {
                batch.delete(o.topics, topicKey(topicId));
                batch.deleteRange(o.messages, MessageRecord.prefix(topicId), MessageRecord.prefix(topicId + 1));
                batch.deleteRange(o.idempotency, MessageRecord.prefix(topicId), MessageRecord.prefix(topicId + 1));
            } catch (RocksDBException e) {
                throw new LogException("batch delete failed: " + e.getMessage(), e);
            }
        }

        public void putRecord(String key, byte[] value) {
            try {
                batch.put(o.records, key.getBytes(StandardCharsets.UTF_8), value);
            } catch (RocksDBException e) {
                throw new LogException("batch put failed: " + e.getMessage(), e);
            }
        }

        public void deleteRecord(String key) {
            try {
                batch.delete(o.records, key.getBytes(StandardCharsets.UTF_8));
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
        lock.writeLock().lock();
        try {
            if (db != null) {
                try {
                    db.db.flushWal(true);
                } catch (RocksDBException ignored) {
                    // closing anyway; the WAL was written
                }
                db.close();
                db = null;
            }
        } finally {
            lock.writeLock().unlock();
        }
        syncWrite.close();
        asyncWrite.close();
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

    /**
     * Every commit writes the record of each topic it touches, so it is one string concatenation (the bytes Jackson's
     * generator wrote, without the generator, its contexts and a stream: ~770 B → ~250 B of garbage per record).
     * Valid topic names need no escaping; any other name is quoted as JSON, so the record stays readable.
     */
    static byte[] encodeTopic(StoredTopic t) {
        String name = TopicNames.isValid(t.name()) ? t.name()
                : new String(JsonStringEncoder.getInstance().quoteAsString(t.name()));
        Retention r = t.retention();
        return ("{\"id\":" + t.id() + ",\"name\":\"" + name + "\",\"created\":" + t.created()
                + ",\"first\":" + t.firstOffset() + ",\"last\":" + t.lastOffset() + ",\"bytes\":" + t.bytes()
                + (r.maxMessages() == null ? "" : ",\"maxMessages\":" + r.maxMessages())
                + (r.maxAge() == null ? "" : ",\"maxAgeMs\":" + r.maxAge().toMillis())
                + (r.maxBytes() == null ? "" : ",\"maxBytes\":" + r.maxBytes()) + "}")
                .getBytes(StandardCharsets.UTF_8);
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
