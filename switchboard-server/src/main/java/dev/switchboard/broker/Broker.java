package dev.switchboard.broker;

import dev.switchboard.wire.ApiException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The engine contract: what every engine (the embedded log, Redis) offers the layers above it, in engine-neutral
 * types. Delivery (fan-out, cursors, long polls, the tail cache) and jobs are built on this interface only, so every
 * engine gets the same delivery; an engine stores, orders and notifies, nothing more.
 *
 * <p>Guarantees every engine gives, checked by {@code BrokerContractTest}:
 * <ul>
 *   <li>Offsets of a topic start at 1 and are contiguous; appends of one caller keep their order.
 *   <li>An append completes only once its message is readable (and stored under the engine's durability policy).
 *   <li>An append with an idempotency key that was used on the topic before completes with the first offset.
 *   <li>A batch's messages get contiguous offsets in the batch's order and are stored all or none.
 *   <li>Watchers hear of a change only after it is readable by {@link #read}.
 *   <li>A {@link Transaction} is atomic: all of its records and messages are stored, or none.
 *   <li>Refused input ({@link ApiException}) changes nothing; every call that returns a future completes it, on
 *       success, refusal or failure of the store, never leaving a caller waiting.
 * </ul>
 *
 * <p>Threads: any thread may call; nothing blocks the caller on the disk or the network. Futures and watchers run on
 * the engine's threads and must hand long work elsewhere.
 */
public interface Broker extends AutoCloseable {

    /**
     * Appends a message to a topic, creating the topic on its first message.
     *
     * @param idempotencyKey null, or a key that makes a retry return the first append's offset
     * @throws ApiException for refused input, before anything is stored
     */
    default CompletableFuture<PublishResult> append(String topic, String type, byte[] payload,
                                                    String idempotencyKey) {
        return append(topic, type, payload, MessageHeaders.NONE, idempotencyKey);
    }

    /**
     * {@link #append(String, String, byte[], String)} with headers ({@link MessageHeaders}), stored with the message
     * and read back with it; they count against the message size limit.
     */
    CompletableFuture<PublishResult> append(String topic, String type, byte[] payload,
                                            Map<String, List<String>> headers, String idempotencyKey);

    /**
     * Appends messages of one type to a topic as one atomic step: they get contiguous offsets in list order, with no
     * other message between them, and are all stored or none is.
     *
     * @param idempotencyKey null, or a key that makes a retry return the first batch's range (keys are shared with
     *                       {@link #append}: a key used by either is used for both)
     * @throws ApiException for refused input (no message, too many, one too large), before anything is stored
     */
    default CompletableFuture<BatchResult> appendBatch(String topic, String type, List<byte[]> payloads,
                                                       String idempotencyKey) {
        return appendBatch(topic, type, payloads, MessageHeaders.NONE, idempotencyKey);
    }

    /**
     * {@link #appendBatch(String, String, List, String)} with the same headers on every message; they count against
     * each message's size limit.
     */
    CompletableFuture<BatchResult> appendBatch(String topic, String type, List<byte[]> payloads,
                                               Map<String, List<String>> headers, String idempotencyKey);

    /**
     * Queues an atomic change of several records and messages (jobs use it to store a job's state together with the
     * event announcing it).
     *
     * @throws ApiException when the engine cannot take more work now
     */
    void submit(Transaction transaction);

    /** At most {@code maxCount} messages from offset {@code from} on, stopping after {@code maxBytes} of payload. */
    CompletableFuture<List<Message>> read(String topic, long from, int maxCount, long maxBytes);

    /** The topic's positions and settings, or empty when no such topic is stored. */
    Optional<TopicState> state(String topic);

    /** Every stored topic, reserved ones ({@code _…}) included, by name. */
    List<TopicState> topics();

    /** How many topics are stored. */
    int topicCount();

    /**
     * Tells {@code watcher} of every change to the topic from now on, also when it is created later. Cancel the
     * returned watch when done; a deleted topic's watchers are told once and dropped.
     */
    Watch watch(String topic, TopicWatcher watcher);

    /**
     * Tells {@code listener} the name of every topic created from now on (by its first message, a transaction or a
     * retention), once the topic is readable; a topic deleted and created again is told again. A topic whose
     * creation completed before this call is never told (a listing made after it finds that one). Delivery follows
     * name patterns with it ({@code fanout.PatternFollow}). Calls come from the engine's threads and must not block;
     * cancel the returned watch when done.
     */
    Watch watchCreations(Consumer<String> listener);

    /** Replaces a topic's retention (creating the topic if needed) and applies it at once. */
    CompletableFuture<TopicState> setRetention(String topic, Retention retention);

    /** Deletes a topic and its messages; completes with false when there was no such topic. */
    CompletableFuture<Boolean> delete(String topic);

    /** A record outside topics (jobs keep theirs here), or null; reads off the caller's thread. */
    CompletableFuture<byte[]> record(String key);

    /** Every record whose key starts with {@code prefix}, in key order; blocks: at start-up or on a thread of the caller's own, never an event loop. */
    List<Record> recordsWithPrefix(String prefix);

    /** Why the engine cannot store changes now (disk full, I/O error, writer stopped), or empty when it can. */
    Optional<String> unhealthy();

    /**
     * Whether other nodes may use the same store at the same time (Redis): then what one node keeps about its own
     * connections (presence) must say which node it belongs to, and a node that starts finds others' state alive.
     */
    default boolean shared() {
        return false;
    }

    /** What a readiness probe shows of the engine besides its verdict (a remote store's round trip, say). */
    default Map<String, Object> health() {
        return Map.of();
    }

    /**
     * {@link #state} without blocking the caller, for callers on an event loop: on an engine shared by nodes a
     * topic's state is a round trip.
     */
    default CompletableFuture<Optional<TopicState>> stateAsync(String topic) {
        return CompletableFuture.completedFuture(state(topic));
    }

    /**
     * Completes once every message of the topic so far can be read: a topic the layer above the engine writes
     * lazily (a job's events, {@code jobs.JobTopics}) is written out first. Readers that take positions from
     * {@link #state} call it before; {@link #stateAsync} and {@link #read} need no such call.
     */
    default CompletableFuture<Void> whenReadable(String topic) {
        return CompletableFuture.completedFuture(null);
    }

    /** {@link #topics} without blocking the caller, for callers on an event loop. */
    default CompletableFuture<List<TopicState>> topicsAsync() {
        return CompletableFuture.completedFuture(topics());
    }

    /**
     * Jobs kept by the engine itself, when its nodes share them (Redis); empty for an engine of one node, on whose
     * transactions jobs then run. The same ledger each call.
     *
     * @param defaults the settings of a queue never configured
     */
    default Optional<JobLedger> jobLedger(JobLedger.Settings defaults) {
        return Optional.empty();
    }

    /**
     * Consumer groups kept by the engine itself, when its nodes share them (Redis); empty for an engine of one node,
     * whose groups live in the node's memory. The same ledger each call.
     */
    default Optional<GroupLedger> groupLedger(GroupLedger.Settings settings) {
        return Optional.empty();
    }

    /**
     * The exchange of live (never stored) messages with the other nodes sharing this engine, created on first use
     * and handing what they send to {@code receiver} (the first call's); empty for an engine of one node, where live
     * messages stay on the node.
     */
    default Optional<LiveExchange> liveExchange(Consumer<LiveExchange.Heard> receiver) {
        return Optional.empty();
    }

    @Override
    void close();

    /** A registered {@link TopicWatcher}. */
    interface Watch {
        void cancel();
    }

    /** A key and its value. */
    record Record(String key, byte[] value) {}
}
