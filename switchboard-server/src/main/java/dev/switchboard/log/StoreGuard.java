package dev.switchboard.log;

import dev.switchboard.wire.ApiException;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The writer's gate to the store. After a refused write (disk full, I/O error) every change is refused at once,
 * without touching the store, until {@link #recover()} finds that it writes again; the refusal's reason, never a
 * path, is what clients and {@code /readyz} see.
 *
 * <p>Threads: the log writer writes and recovers; any thread reads {@link #problem()}.
 */
final class StoreGuard {
    private static final Logger log = LoggerFactory.getLogger(StoreGuard.class);
    /** Room the store needs before reopening is worth trying: its WAL and manifest files, with some margin. */
    private static final long MIN_FREE_BYTES_TO_REOPEN = 1024 * 1024;

    private final RocksLog store;
    private final EmbeddedBroker broker;
    private final boolean sync;
    /** One fsync: the batch policy's timer, or a write that fsyncs under {@code always}. */
    private final Timer fsyncs;
    /** The store's last refusal until a probe write succeeds again; null while it writes. */
    private volatile LogException failure;

    StoreGuard(RocksLog store, EmbeddedBroker broker, boolean sync, MeterRegistry metrics) {
        this.store = store;
        this.broker = broker;
        this.sync = sync;
        this.fsyncs = Timer.builder("switchboard.log.fsync")
                .description("One fsync of the log (--fsync always: the write that fsyncs)").register(metrics);
    }

    /** Writes a batch (fsynced under {@code --fsync always}), or refuses at once while the store is failing. */
    void write(RocksLog.Batch batch) {
        LogException f = failure;
        if (f != null) {
            throw f;
        }
        if (sync) {
            fsyncs.record(() -> store.write(batch, true));
        } else {
            store.write(batch, false);
        }
    }

    /** The answer to a change the store refused; the full cause goes to the server's log, not to the client. */
    ApiException failed(LogException e) {
        if (e != failure) {
            log.error("the log could not store a change; refusing changes until it can", e);
            failure = e;
        }
        return ApiException.unavailable("the log could not store the change (" + e.reason() + "); retry later");
    }

    /** Why the store refuses writes now, or null. */
    String problem() {
        LogException f = failure;
        return f == null ? null : "the log cannot store changes: " + f.reason();
    }

    boolean failing() {
        return failure != null;
    }

    /**
     * A store that refused a write may take writes again (space freed, a transient error): find out without waiting
     * for a client. RocksDB stays in its error state after a failed write, so once there is room again it is reopened,
     * and the topics' positions are read back in case the failed write reached the disk after all.
     */
    void recover() {
        if (probeWrite() || store.usableSpace() < MIN_FREE_BYTES_TO_REOPEN) {
            return;
        }
        try {
            store.reopen();
            for (StoredTopic st : store.loadTopics()) {
                StoredTopicState t = broker.registered(st.name());
                if (t != null && t.lastOffset() != st.lastOffset()) {
                    log.warn("topic {} is at offset {} in the reopened log, {} in memory", st.name(), st.lastOffset(),
                            t.lastOffset());
                    t.loaded(st);
                }
            }
        } catch (LogException e) {
            log.warn("reopening the log failed: {}", e.reason());
            return;
        }
        probeWrite();
    }

    private boolean probeWrite() {
        try (RocksLog.Batch batch = store.newBatch()) {
            batch.putRecord("s/probe", Long.toString(System.currentTimeMillis()).getBytes(StandardCharsets.US_ASCII));
            store.write(batch, true);
        } catch (LogException e) {
            log.debug("the log still refuses writes: {}", e.reason());
            return false;
        }
        log.info("the log stores changes again");
        failure = null;
        return true;
    }

    /** The {@code batch} fsync policy's timer: fsyncs everything written so far. */
    void syncQuietly() {
        if (failure != null) {
            return; // the writer's probe finds out when the store works again
        }
        try {
            fsyncs.record(store::sync);
        } catch (LogException e) {
            log.warn("periodic fsync failed", e);
        }
    }
}
