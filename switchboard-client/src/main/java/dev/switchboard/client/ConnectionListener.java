package dev.switchboard.client;

import java.net.URI;
import java.time.Duration;

/**
 * Hears about connections: subscriptions connecting, losing their connection, waiting to reconnect, skipping a gap,
 * being closed as slow consumers. Every method has a no-op default. Called on the thread that noticed (a
 * subscription's reader thread, or an HTTP client thread): keep it short and do not block.
 */
public interface ConnectionListener {
    /** A subscription of {@code topic} is reading from {@code server}. */
    default void connected(String topic, URI server) {}

    /** A subscription of {@code topic} lost its connection to {@code server}; it will reconnect. */
    default void disconnected(String topic, URI server, Throwable cause) {}

    /** A subscription of {@code topic} will try {@code server} again after {@code delay}. */
    default void reconnecting(String topic, URI server, Duration delay) {}

    /** A subscription skipped messages dropped by retention (also given to its own gap handler). */
    default void gap(Gap gap) {}

    /**
     * The server closed a subscription of {@code topic} for reading too slowly (WebSocket close 4008). The
     * subscription resumes from its own last offset, as after any lost connection. A reader whose socket was full
     * may never see this close: the connection then just ends, reported through {@link #disconnected}.
     */
    default void slowConsumer(String topic, URI server) {}
}
