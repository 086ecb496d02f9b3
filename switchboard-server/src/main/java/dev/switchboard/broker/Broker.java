package dev.switchboard.broker;

import dev.switchboard.wire.ApiException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Topics: publish, read, hold long polls, attach push subscribers. Codecs talk to this interface only and never
 * wait on it: every call that may touch the disk returns a future, and futures complete on the broker's threads (hand
 * results back to your event loop).
 *
 * <p>Errors: calls throw (or complete exceptionally with) {@link ApiException} for refused input, before anything is
 * stored.
 */
public interface Broker extends AutoCloseable {

    /** Stores a message; completes once it is in the log under the fsync policy. */
    CompletableFuture<PublishResult> publish(String topic, String type, byte[] payload, String idempotencyKey);

    /**
     * A poll: messages at or after {@code from}. With a positive {@code wait} and nothing to return, holds until a
     * message arrives or the wait ends (then an empty result). {@code timer} schedules the wait's end: pass the
     * caller's event loop. Cancelling the future releases the hold. An unknown topic is an error without a wait; with
     * one, the poll waits for the topic's first message.
     */
    CompletableFuture<ReadResult> poll(String topic, StartPosition from, int limit, Duration wait,
                                       ScheduledExecutorService timer);

    /** The topic, created in memory if needed, for a push subscriber to attach to; pair with {@link #release}. */
    Topic attach(String topic);

    /** A push subscriber left; a topic that was never stored and has no listeners left is forgotten. */
    void release(Topic topic);

    List<TopicInfo> list();

    Optional<TopicInfo> describe(String topic);

    /** Replaces a topic's retention (creating the topic if needed) and applies it at once. */
    CompletableFuture<TopicInfo> setRetention(String topic, Retention retention);

    /** Deletes a topic and its log; completes with false when there was no such topic. */
    CompletableFuture<Boolean> delete(String topic);

    @Override
    void close();
}
