package dev.switchboard.jobs;

import dev.switchboard.broker.Broker;
import dev.switchboard.broker.JobLedger;
import dev.switchboard.config.Limits;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import dev.switchboard.wire.TopicNames;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Jobs: asynchronous requests with handles, as the endpoints see them. Every change of a job changes its state and
 * appends its new public JSON to its topic {@code _jobs.<id>} at once, so a job's state and its events never
 * disagree and every way of following a topic follows a job too (docs/architecture.md, "One log for everything"); a
 * job's {@code version} is the offset of its latest event.
 *
 * <p>This facade refuses bad input first ({@link JobRules}), hands changes and lookups to the engine's
 * {@link JobStore} (transactions on an engine of one node, the engine's own {@link JobLedger} when nodes share it),
 * and waits for a job through the store: on one node the commit that changes the job hands it to its waiters, across
 * nodes the waiter follows the job's topic (docs/architecture.md, "Jobs").
 */
public final class JobService implements AutoCloseable {
    public static final int INLINE_RESULT_BYTES = 64 * 1024;
    public static final String STATUS_EVENT_TYPE = "application/vnd.switchboard.job-status+json";
    public static final String PROGRESS_EVENT_TYPE = "application/vnd.switchboard.job-progress+json";
    /** Longer than any id this server gives out: looked up nowhere. */
    private static final int MAX_ID = 64;

    /** A claimed job with its payload, for the worker. */
    public record Claimed(Job job, byte[] payload) {}

    /** A queue's settings and how many of its retained jobs are in each status. */
    public record QueueInfo(String queue, QueueSettings settings, Map<JobStatus, Integer> counts) {}

    private final JobRules rules;
    private final JobStore store;
    private final Broker readers;

    public JobService(Broker broker, Limits limits) {
        this.rules = new JobRules(limits);
        QueueSettings d = QueueSettings.DEFAULTS;
        this.store = broker.jobLedger(new JobLedger.Settings(d.maxAttempts(), d.lease().toMillis(),
                        d.resultTtl().toMillis()))
                .<JobStore>map(ledger -> new LedgerJobStore(broker, ledger, rules))
                .orElseGet(() -> new EmbeddedJobStore(broker, rules));
        this.readers = new JobTopics(broker, store::writeOut);
    }

    /**
     * The engine for everyone who reads topics (delivery, the topic endpoints): a job's topic is written out before
     * it is read, so its events are there, at offsets equal to the versions they announced.
     */
    public Broker readers() {
        return readers;
    }

    public static String topicOf(String jobId) {
        return JobKeys.topic(jobId);
    }

    // ---- reads ----

    /** The job; fails with {@code job_not_found} when there is none. */
    public CompletableFuture<Job> find(String id) {
        if (id == null || id.isEmpty() || id.length() > MAX_ID) {
            return CompletableFuture.failedFuture(notFound(id));
        }
        return store.find(id).thenApply(j -> {
            if (j == null) {
                throw notFound(id);
            }
            return j;
        });
    }

    private static ApiException notFound(String id) {
        return new ApiException(ErrorCode.JOB_NOT_FOUND, "no job '" + TopicNames.abbreviate(id) + "'");
    }

    /** The result bytes of a succeeded job. */
    public CompletableFuture<byte[]> result(Job j) {
        if (j.status() != JobStatus.SUCCEEDED) {
            throw new ApiException(ErrorCode.JOB_NOT_SUCCEEDED, "job '" + j.id() + "' is " + j.status().wire()
                    + "; a result exists only once it succeeded");
        }
        if (j.inlineResult() != null) {
            return CompletableFuture.completedFuture(j.inlineResult());
        }
        return store.storedResult(j.id()).thenApply(r -> {
            if (r == null) {
                throw new ApiException(ErrorCode.JOB_NOT_FOUND, "job '" + j.id() + "' expired");
            }
            return r;
        });
    }

    /** Refuses a {@code wait=} longer than the server's limit; call it before changing anything. */
    public void requireWait(Duration wait) {
        rules.checkWait(wait);
    }

    /** Completes when the job's version exceeds {@code version} or the wait ends, with the job as it then is. */
    public CompletableFuture<Job> awaitVersion(Job j, long version, Duration wait, ScheduledExecutorService timer) {
        requireWait(wait);
        return await(j, now -> now.version() > version, wait, timer);
    }

    /** Completes when the job is finished or the wait ends, with the job as it then is. */
    public CompletableFuture<Job> awaitFinished(Job j, Duration wait, ScheduledExecutorService timer) {
        requireWait(wait);
        return await(j, now -> now.status().isTerminal(), wait, timer);
    }

    private CompletableFuture<Job> await(Job first, Predicate<Job> done, Duration wait,
                                         ScheduledExecutorService timer) {
        if (done.test(first) || wait.isZero()) {
            return CompletableFuture.completedFuture(first);
        }
        String id = first.id();
        CompletableFuture<Job> result = new CompletableFuture<>();
        AtomicReference<Job> latest = new AtomicReference<>(first);
        Consumer<Job> seen = now -> {
            if (now == null) {
                result.completeExceptionally(new ApiException(ErrorCode.JOB_NOT_FOUND, "job '" + id + "' expired"));
            } else {
                latest.accumulateAndGet(now, (a, b) -> b.version() >= a.version() ? b : a);
                if (done.test(now)) {
                    result.complete(now);
                }
            }
        };
        Runnable unfollow = store.follow(id, seen);
        ScheduledFuture<?> timeout = timer.schedule(() -> result.complete(latest.get()), wait.toNanos(),
                TimeUnit.NANOSECONDS);
        result.whenComplete((r, e) -> {
            unfollow.run();
            timeout.cancel(false);
        });
        store.find(id).whenComplete((now, e) -> { // a change between the first look and following
            if (e == null) {
                seen.accept(now);
            }
        });
        return result;
    }

    /** The queue's settings and counts; fails with {@code queue_not_found} for a queue never configured or used. */
    public CompletableFuture<QueueInfo> queue(String queue) {
        rules.checkQueue(queue);
        return store.queue(queue).thenApply(info -> {
            if (info == null) {
                throw new ApiException(ErrorCode.QUEUE_NOT_FOUND, "no queue '" + queue + "'");
            }
            return info;
        });
    }

    // ---- changes: checked here, made by the store ----

    public CompletableFuture<Job> submit(String queue, String type, byte[] payload, String key) {
        rules.checkSubmit(queue, type, payload, key);
        return store.submit(queue, type, payload, key);
    }

    /**
     * A worker takes up to {@code max} of the queue's oldest queued jobs, each with its own lease, at once; when
     * none is queued it waits up to {@code wait} and takes what comes first (empty when nothing came). It never
     * waits to fill {@code max}.
     */
    public CompletableFuture<List<Claimed>> claim(String queue, int max, Duration wait, Duration lease,
                                                  ScheduledExecutorService timer) {
        rules.checkClaim(queue, max, wait, lease);
        return store.claim(queue, max, wait, lease, timer);
    }

    public CompletableFuture<Job> progress(String id, String token, Integer percent, String message) {
        rules.checkProgress(percent, message);
        return store.progress(id, token, percent, message);
    }

    public CompletableFuture<Job> heartbeat(String id, String token) {
        return store.heartbeat(id, token);
    }

    public CompletableFuture<Job> complete(String id, String token, String type, byte[] result) {
        rules.checkResult(type, result);
        return store.complete(id, token, type, result);
    }

    public CompletableFuture<Job> fail(String id, String token, String error, boolean retry) {
        return store.fail(id, token, rules.failReason(error), retry);
    }

    public CompletableFuture<Job> cancel(String id) {
        return store.cancel(id);
    }

    public CompletableFuture<QueueInfo> configure(String queue, QueueSettings newSettings) {
        rules.checkSettings(queue, newSettings);
        return store.configure(queue, newSettings).thenCompose(v -> queue(queue));
    }

    @Override
    public void close() {
        store.close();
    }
}
