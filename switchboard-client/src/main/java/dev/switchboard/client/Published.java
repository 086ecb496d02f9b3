package dev.switchboard.client;

/**
 * A stored message, as {@link Switchboard#publish publish} reports it.
 *
 * @param offset its offset in the topic
 * @param time when it was stored
 * @param replayed true when an earlier publish with the same idempotency key had stored it: nothing new was stored
 */
public record Published(String topic, long offset, String time, boolean replayed) {}
