package dev.switchboard.broker;

import dev.switchboard.wire.ApiException;
import dev.switchboard.log.RocksLog;

/**
 * A change to the log that must be atomic with message appends: a job's new state together with the event that
 * announces it, say. Transactions run on the log writer thread, share its group commit, and see each other's staged
 * state in submission order.
 *
 * <p>Contract: {@link #stage} either throws {@link ApiException} before staging anything (the transaction is
 * refused alone) or stages all of its changes. Then exactly one of {@link #committed} (the batch is in the log) or
 * {@link #failed} (it is not) is called, on the writer thread; neither may block for long.
 */
public interface LogTransaction {

    /** The writer's view of one group commit being assembled. */
    interface Stage {
        /** Wall-clock time of this commit, in ms. */
        long now();

        /** Stages a message on a topic (created if needed); the result carries its offset, visible after commit. */
        Message append(String topic, String type, byte[] payload);

        /** The batch, for changes outside topics. */
        RocksLog.Batch batch();

        /** The store, for reads (the writer thread may block). */
        RocksLog store();
    }

    void stage(Stage stage);

    /**
     * The batch is in the log but its messages are not yet visible to readers: state that readers should find no
     * later than the messages announcing it is published here.
     */
    default void durable() {}

    void committed();

    void failed(ApiException error);
}
