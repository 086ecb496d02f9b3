package dev.switchboard.broker;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Jobs kept by an engine whose nodes share them ({@link Broker#jobLedger}): every operation is atomic in the engine
 * and judged by the engine's clock, so a lease expires once for every node and no node's memory or timer holds a
 * job. An engine of one node offers none; jobs then run on its transactions ({@code dev.switchboard.jobs}).
 *
 * <p>A job travels as its stored fields ({@link Fields}); the jobs layer names and reads them. Refusals (no such
 * job, a lost or expired lease, a finished job) fail the future with their {@code ApiException}, and change nothing.
 */
public interface JobLedger {
    /** A job's stored fields, by name; absent fields are null. */
    record Fields(Map<String, byte[]> values) {}

    /** A job a claim took, with its payload. */
    record Claimed(Fields job, byte[] payload) {}

    /** How many of a queue's kept jobs are in each status, its settings when configured (else null). */
    record QueueCounts(Map<String, Long> counts, Settings settings) {}

    /** A queue's settings, in milliseconds. */
    record Settings(int maxAttempts, long leaseMillis, long resultTtlMillis) {}

    /** The job, or null when there is none (or no longer). */
    CompletableFuture<Fields> find(String id);

    /** The result of a succeeded job, or null when there is none. */
    CompletableFuture<byte[]> result(String id);

    CompletableFuture<QueueCounts> queue(String queue);

    /** A new queued job; with an idempotency key the queue already holds a job for, that job. */
    CompletableFuture<Fields> submit(String queue, String id, String type, byte[] payload, String idempotencyKey);

    /**
     * Up to {@code max} of the queue's oldest queued jobs, each under a new lease (null: the queue's) whose token is a
     * fencing token, after requeueing the jobs whose leases expired; when none is queued, waits up to {@code wait}
     * for one (empty when none came).
     */
    CompletableFuture<List<Claimed>> claim(String queue, int max, Duration wait, Long leaseMillis);

    CompletableFuture<Fields> progress(String id, String leaseToken, Integer percent, String message);

    CompletableFuture<Fields> heartbeat(String id, String leaseToken);

    /**
     * @param publicResult the result's fields of the job's public JSON ({@code "resultType":…}), rendered by the
     *                     jobs layer, which owns that form
     * @param inline       whether the job's state carries the result itself
     */
    CompletableFuture<Fields> complete(String id, String leaseToken, String type, byte[] result, byte[] publicResult,
                                       boolean inline);

    CompletableFuture<Fields> fail(String id, String leaseToken, String reason, boolean retry);

    CompletableFuture<Fields> cancel(String id);

    CompletableFuture<Void> configure(String queue, Settings settings);
}
