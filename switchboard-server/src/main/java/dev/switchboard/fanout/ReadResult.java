package dev.switchboard.fanout;

import dev.switchboard.broker.Message;
import java.util.List;

/**
 * The answer to a poll: messages in offset order, the {@code from} to use next, and whether offsets before the first
 * returned one were dropped by retention.
 */
public record ReadResult(String topic, List<Message> messages, long next, boolean gap) {}
