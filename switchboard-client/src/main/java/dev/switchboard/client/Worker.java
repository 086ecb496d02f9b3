package dev.switchboard.client;

import java.time.Duration;

/**
 * Processes a queue's jobs with a {@link JobHandler}, made by {@link Switchboard#worker}: each of its
 * {@link WorkerOptions#concurrency()} threads claims a job (a held claim, woken by a submit), runs the handler while
 * heartbeating the lease, and completes or fails the job. Connection failures are retried with backoff, failing over
 * between the server URLs, so a worker rides out a server restart. Thread-safe.
 */
public interface Worker extends AutoCloseable {
    String queue();

    /** Jobs this worker completed or failed so far. */
    long handled();

    /**
     * Stops claiming, gives running handlers {@link WorkerOptions#closeGrace()} to finish, interrupts the rest and
     * hands their jobs back to the queue ({@code fail} with {@code retry:true}, which counts as an attempt); then
     * returns. Idempotent.
     */
    @Override
    void close();

    /** Why the worker stopped by itself: every claim refused for good (an invalid queue name, say); else null. */
    SwitchboardException failure();

    /**
     * Waits until the worker has stopped (after {@link #close()}, {@link WorkerOptions#maxJobs()} jobs, or a
     * {@link #failure()}); false on timeout.
     */
    boolean awaitStopped(Duration timeout) throws InterruptedException;
}
