package dev.switchboard.broker;

import dev.switchboard.wire.ApiException;

/**
 * An atomic change of records and messages, staged by the engine into one of its commits (jobs: a job's new state
 * together with the event that announces it). Transactions of one engine run one at a time, in submission order, and
 * see each other's staged records.
 *
 * <p>Contract: {@link #stage} either throws {@link ApiException} before staging anything (the transaction is refused
 * alone) or stages all of its changes. Then exactly one of {@link #committed} (stored) or {@link #failed} (not stored)
 * is called, on the engine's thread; neither may block. A failure of anything else in the same commit may fail this
 * transaction too: the engine stores a commit whole or not at all.
 */
public interface Transaction {

    /** The engine's view of the commit being assembled. */
    interface Stage {
        /** Wall-clock time of this commit, in ms. */
        long now();

        /** Stages a message on a topic (created if needed); the result carries its offset, readable after commit. */
        Message append(String topic, String type, byte[] payload);

        /**
         * {@link #append(String, String, byte[])} of a message written out later than it happened (a job's events
         * kept in its record until its topic is read), keeping its {@code time} (never before the topic's last
         * message). An engine that stamps times itself may use the commit's.
         */
        default Message append(String topic, String type, byte[] payload, long time) {
            return append(topic, type, payload);
        }

        /**
         * A record that belongs to a topic names it second in its key, {@code <kind>/<topic>/<rest>}: an engine that
         * shards by topic (Redis Cluster) keeps it with the topic and the topics derived from it ({@code _presence.<t>},
         * {@code <t>.dead}), so one transaction may change all of them there.
         */
        void putRecord(String key, byte[] value);

        void deleteRecord(String key);

        /** A record as this commit leaves it: staged here, else stored, else null. May block. */
        byte[] record(String key);

        /**
         * Deletes a topic and its messages with this commit (a job's event topic when the job expires), messages
         * staged to it before included. A message staged to it afterwards starts a new topic of that name.
         */
        void deleteTopic(String topic);
    }

    void stage(Stage stage);

    /**
     * Stored, but its messages are not yet readable: state that readers must find no later than the messages
     * announcing it is published here.
     */
    default void durable() {}

    void committed();

    void failed(ApiException error);
}
