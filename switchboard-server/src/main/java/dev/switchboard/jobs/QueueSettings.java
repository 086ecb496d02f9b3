package dev.switchboard.jobs;

import java.time.Duration;

/**
 * A queue's settings.
 *
 * @param maxAttempts how many times a job may run before a lease expiry or a retryable failure fails it for good
 * @param lease       lease of a claim that names none
 * @param resultTtl   how long a finished job (and its result and events) is kept
 */
public record QueueSettings(int maxAttempts, Duration lease, Duration resultTtl) {
    public static final QueueSettings DEFAULTS = new QueueSettings(3, Duration.ofSeconds(60), Duration.ofHours(24));
}
