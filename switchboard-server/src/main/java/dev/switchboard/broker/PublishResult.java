package dev.switchboard.broker;

/** An acknowledged publish. {@code replayed} is true when an {@code Idempotency-Key} matched an earlier publish. */
public record PublishResult(String topic, long offset, long time, boolean replayed) {}
