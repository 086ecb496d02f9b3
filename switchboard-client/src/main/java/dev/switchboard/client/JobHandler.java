package dev.switchboard.client;

/**
 * Processes one job for a {@link Worker}: returns its result, or throws. A {@link JobFailure} fails the job with its
 * message, requeued or not as it says; any other exception fails it with its message and requeues it (the queue's
 * {@code maxAttempts} bounds the retries). Runs on a worker thread, one job per thread; its thread is interrupted
 * when the lease is lost or the worker closes.
 */
@FunctionalInterface
public interface JobHandler {
    JobResult handle(JobContext job) throws Exception;
}
