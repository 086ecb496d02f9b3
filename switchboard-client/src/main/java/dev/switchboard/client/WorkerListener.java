package dev.switchboard.client;

import java.net.URI;

/**
 * Hears what a {@link Worker} does: jobs starting and ending, leases lost, outages. Every method has a no-op default;
 * called on the worker's threads, so keep it short.
 */
public interface WorkerListener {
    /** A claimed job is about to be handed to the handler. */
    default void started(JobContext job) {}

    /**
     * The server accepted the job's outcome: {@code job} as it answered (succeeded, failed, or queued again for a
     * retry or a hand-back); {@code reason} is the failure's message, null when it succeeded.
     */
    default void finished(Job job, String reason) {}

    /** The server refused the outcome of job {@code id}, e.g. a result over its size limit. */
    default void refused(String id, SwitchboardException error) {}

    /** The job's lease was lost (requeued and given to another worker, or cancelled): its outcome is dropped. */
    default void leaseLost(String id, String reason) {}

    /** A claim could not reach {@code server}; the worker retries with backoff. Said once per outage. */
    default void unreachable(URI server, Throwable cause) {}

    /** A claim got through again after {@link #unreachable}. */
    default void reconnected(URI server) {}
}
