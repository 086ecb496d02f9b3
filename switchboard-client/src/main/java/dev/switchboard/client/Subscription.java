package dev.switchboard.client;

import java.util.concurrent.CompletableFuture;

/**
 * A live subscription to one topic or a pattern of topics, made by {@link Switchboard#subscribe}. It reconnects by itself after any failure
 * (backoff with jitter, failing over between the server URLs) and resumes after the last offset it took in, so its
 * handler sees every message once, in order, with gaps reported rather than hidden. Thread-safe.
 */
public interface Subscription extends AutoCloseable {
    String topic();

    /** The offset of the last message handed to the handler; 0 before the first. */
    long lastOffset();

    /** Messages read but not yet handed to the handler: never more than the buffer size. */
    int buffered();

    /**
     * Completes when the subscription ends: normally after {@link #close()}, exceptionally with a
     * {@link SwitchboardException} when the server refused it for good (an invalid topic, a deleted topic), or with
     * what the handler threw.
     */
    CompletableFuture<Void> closed();

    /** Stops reading and delivering; a handler call in progress finishes first. Idempotent. */
    @Override
    void close();
}
