package dev.switchboard.jobs;

import dev.switchboard.jobs.JobService.Claimed;
import dev.switchboard.jobs.JobService.QueueInfo;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;

/**
 * Where jobs are kept and changed: the one part of jobs that differs between engines. {@link EmbeddedJobStore} runs
 * them as transactions on an engine of one node, which orders every change itself; {@link LedgerJobStore} hands
 * them to an engine whose nodes share them ({@link dev.switchboard.broker.JobLedger}). Input is checked before
 * (by {@link JobService}); a refusal fails the future with its {@code ApiException} and changes nothing.
 */
interface JobStore extends AutoCloseable {
    /** The job, or null when there is none. */
    CompletableFuture<Job> find(String id);

    /** The stored result of a succeeded job whose result is not inline, or null when it expired. */
    CompletableFuture<byte[]> storedResult(String id);

    /**
     * Hands {@code changed} the job each time a change of it is readable (its event included), and null once the job
     * is gone, until the returned handle is run. It may be called on the engine's thread, so it must not block, and
     * it may miss nothing but the changes before this call (look once after calling this).
     */
    Runnable follow(String id, Consumer<Job> changed);

    /**
     * Completes once the job's topic holds all of its events: a store that keeps them in the job's record until
     * then writes them out; nothing to do for a job written out, gone or never there.
     */
    CompletableFuture<Void> writeOut(String id);

    /** The queue's settings and counts, or null when the queue is neither configured nor holds jobs. */
    CompletableFuture<QueueInfo> queue(String queue);

    CompletableFuture<Job> submit(String queue, String type, byte[] payload, String key);

    CompletableFuture<List<Claimed>> claim(String queue, int max, Duration wait, Duration lease,
                                           ScheduledExecutorService timer);

    CompletableFuture<Job> progress(String id, String token, Integer percent, String message);

    CompletableFuture<Job> heartbeat(String id, String token);

    CompletableFuture<Job> complete(String id, String token, String type, byte[] result);

    CompletableFuture<Job> fail(String id, String token, String reason, boolean retry);

    CompletableFuture<Job> cancel(String id);

    CompletableFuture<Void> configure(String queue, QueueSettings settings);

    @Override
    void close();
}
