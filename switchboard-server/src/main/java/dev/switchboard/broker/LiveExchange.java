package dev.switchboard.broker;

import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Live messages among the nodes that share an engine (Redis): never stored, never counted as topics, delivered at
 * most once, as core NATS delivers them (docs/nats.md, "Across nodes"). A node hears the others only while it
 * {@link #listen listens}; a group (a NATS queue group) gets each message once across all nodes: the exchange picks
 * one node among those that {@link #join joined} it with a pattern matching the subject.
 *
 * <p>Threads: any; the receiver is called on the engine's threads and must hand its work elsewhere at once.
 */
public interface LiveExchange {
    /**
     * A message another node sent.
     *
     * @param replyTo    the reply subject, or null
     * @param headers    the header block as sent, or null
     * @param groupsHere the groups this node was chosen to deliver it to (one member each)
     */
    record Heard(String subject, String replyTo, byte[] headers, byte[] payload, Set<String> groupsHere) {}

    /**
     * Sends a message to every listening node and picks, for each group joined by some node with a pattern that
     * matches {@code subject}, the node that delivers it. Completes with the groups this node was picked for (the
     * caller delivers to them); with none when the message was dropped (too many bytes in flight, the engine away).
     */
    CompletableFuture<Set<String>> send(String subject, String replyTo, byte[] headers, byte[] payload);

    /**
     * Starts hearing other nodes' messages, once per caller's interest (counted: the node subscribes with the first
     * and unsubscribes after the last {@link #unlisten}); completes once messages sent from then on are heard.
     */
    CompletableFuture<Void> listen();

    void unlisten();

    /**
     * This node has a member of {@code group} subscribed to {@code pattern} (counted like {@link #listen});
     * completes once other nodes' sends can pick it.
     */
    CompletableFuture<Void> join(String pattern, String group);

    void leave(String pattern, String group);
}
