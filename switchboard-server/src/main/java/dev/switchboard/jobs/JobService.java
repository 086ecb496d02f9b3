package dev.switchboard.jobs;

import dev.switchboard.broker.Handoff;
import dev.switchboard.broker.Broker;
import dev.switchboard.broker.Message;
import dev.switchboard.broker.TopicWatcher;
import dev.switchboard.config.Limits;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import dev.switchboard.wire.TopicNames;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Jobs: asynchronous requests with handles, as the endpoints see them. Every change of a job is one transaction that
 * writes its record and appends its new public JSON to its topic {@code _jobs.<id>}, so a job's state and its events
 * never disagree and every way of following a topic follows a job too (docs/architecture.md, "One log for
 * everything"); a job's {@code version} is the offset of its latest event.
 *
 * <p>This facade refuses bad input first ({@link JobRules}), hands each change to the writer thread
 * ({@link JobStateMachine}), and answers reads and waits on the caller's thread from the visible state kept here,
 * which the writer replaces after each commit. {@link JobTimers} expires leases and finished jobs.
 */
public final class JobService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(JobService.class);
    public static final int INLINE_RESULT_BYTES = 64 * 1024;
    public static final String STATUS_EVENT_TYPE = "application/vnd.switchboard.job-status+json";
    public static final String PROGRESS_EVENT_TYPE = "application/vnd.switchboard.job-progress+json";

    /** A claimed job with its payload, for the worker. */
    public record Claimed(Job job, byte[] payload) {}

    /** A queue's settings and how many of its retained jobs are in each status. */
    public record QueueInfo(String queue, QueueSettings settings, Map<JobStatus, Integer> counts) {}

    private final Broker broker;
    private final JobRules rules;
    private final JobStateMachine machine;
    private final JobTimers timers;

    // What readers see: read by any thread, replaced by the writer after each commit.
    private final ConcurrentHashMap<String, Job> visible = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, QueueSettings> visibleSettings = new ConcurrentHashMap<>();

    public JobService(Broker broker, Limits limits) {
        this.broker = broker;
        this.rules = new JobRules(limits);
        for (Broker.Record r : broker.recordsWithPrefix(JobKeys.QUEUES)) {
            visibleSettings.put(JobKeys.queueOf(r.key()), JobJson.settingsFromRecord(r.value()));
        }
        for (Broker.Record r : broker.recordsWithPrefix(JobKeys.JOBS)) {
            Job j = JobJson.fromRecord(r.value());
            visible.put(j.id(), j);
        }
        machine = new JobStateMachine(broker, rules, visible, visibleSettings);
        timers = new JobTimers(machine, visible, visibleSettings);
        log.info("jobs: {} retained, {} queues configured", visible.size(), visibleSettings.size());
    }

    public static String topicOf(String jobId) {
        return JobKeys.topic(jobId);
    }

    // ---- reads ----

    public Job require(String id) {
        Job j = id == null ? null : visible.get(id);
        if (j == null) {
            throw new ApiException(ErrorCode.JOB_NOT_FOUND, "no job '" + TopicNames.abbreviate(id) + "'");
        }
        return j;
    }

    /** The result bytes of a succeeded job. */
    public CompletableFuture<byte[]> result(String id) {
        Job j = require(id);
        if (j.status() != JobStatus.SUCCEEDED) {
            throw new ApiException(ErrorCode.JOB_NOT_SUCCEEDED, "job '" + id + "' is " + j.status().wire()
                    + "; a result exists only once it succeeded");
        }
        if (j.inlineResult() != null) {
            return CompletableFuture.completedFuture(j.inlineResult());
        }
        return broker.record(JobKeys.result(id)).thenApply(r -> {
            if (r == null) {
                throw new ApiException(ErrorCode.JOB_NOT_FOUND, "job '" + id + "' expired");
            }
            return r;
        });
    }

    /** Refuses a {@code wait=} longer than the server's limit; call it before changing anything. */
    public void requireWait(Duration wait) {
        rules.checkWait(wait);
    }

    /** Completes when the job's version exceeds {@code version} or the wait ends, with the job as it then is. */
    public CompletableFuture<Job> awaitVersion(String id, long version, Duration wait, ScheduledExecutorService timer) {
        require(id);
        requireWait(wait);
        return await(id, j -> j.version() > version, System.nanoTime() + wait.toNanos(), timer);
    }

    /** Completes when the job is finished or the wait ends, with the job as it then is. */
    public CompletableFuture<Job> awaitFinished(String id, Duration wait, ScheduledExecutorService timer) {
        require(id);
        requireWait(wait);
        return await(id, j -> j.status().isTerminal(), System.nanoTime() + wait.toNanos(), timer);
    }

    private CompletableFuture<Job> await(String id, Predicate<Job> done, long deadline,
                                         ScheduledExecutorService timer) {
        Job j = visible.get(id);
        if (j == null) {
            return CompletableFuture.failedFuture(new ApiException(ErrorCode.JOB_NOT_FOUND, "job '" + id + "' expired"));
        }
        long remaining = deadline - System.nanoTime();
        if (done.test(j) || remaining <= 0) {
            return CompletableFuture.completedFuture(j);
        }
        // The job's topic is its change feed: each change's state is visible before its event is (JobStateMachine's Change#durable),
        // so a watcher woken by the event finds the new state.
        CompletableFuture<Job> result = new CompletableFuture<>();
        Runnable look = () -> {
            Job now = visible.get(id);
            if (now == null) {
                result.completeExceptionally(new ApiException(ErrorCode.JOB_NOT_FOUND, "job '" + id + "' expired"));
            } else if (done.test(now)) {
                result.complete(now);
            }
        };
        Broker.Watch watch = broker.watch(topicOf(id), new TopicWatcher() {
            @Override
            public void appended(Message message) {}

            @Override
            public void truncated(long firstOffset) {}

            @Override
            public void committed() {
                Handoff.execute(timer, look);
            }

            @Override
            public void deleted() {
                Handoff.execute(timer, look);
            }
        });
        ScheduledFuture<?> timeout = timer.schedule(() -> result.complete(visible.getOrDefault(id, j)),
                remaining, TimeUnit.NANOSECONDS);
        result.whenComplete((r, e) -> {
            watch.cancel();
            timeout.cancel(false);
        });
        timer.execute(look); // a change between the first look and the watch
        return result;
    }

    public QueueInfo queue(String queue) {
        rules.checkQueue(queue);
        Map<JobStatus, Integer> counts = new EnumMap<>(JobStatus.class);
        for (JobStatus s : JobStatus.values()) {
            counts.put(s, 0);
        }
        boolean known = visibleSettings.containsKey(queue);
        for (Job j : visible.values()) {
            if (j.queue().equals(queue)) {
                counts.merge(j.status(), 1, Integer::sum);
                known = true;
            }
        }
        if (!known) {
            throw new ApiException(ErrorCode.QUEUE_NOT_FOUND, "no queue '" + queue + "'");
        }
        return new QueueInfo(queue, visibleSettings.getOrDefault(queue, QueueSettings.DEFAULTS), counts);
    }

    // ---- changes: checked here, made on the writer thread ----

    public CompletableFuture<Job> submit(String queue, String type, byte[] payload, String key) {
        rules.checkSubmit(queue, type, payload, key);
        return machine.submit(queue, type, payload, key);
    }

    /**
     * A worker takes up to {@code max} of the queue's oldest queued jobs, each with its own lease, in one commit; when
     * none is queued it waits up to {@code wait} and takes what comes first (empty when nothing came). It never waits
     * to fill {@code max}.
     */
    public CompletableFuture<List<Claimed>> claim(String queue, int max, Duration wait, Duration lease,
                                                  ScheduledExecutorService timer) {
        rules.checkClaim(queue, max, wait, lease);
        return machine.claim(queue, max, wait, lease, timer);
    }

    public CompletableFuture<Job> progress(String id, String token, Integer percent, String message) {
        rules.checkProgress(percent, message);
        return machine.progress(id, token, percent, message);
    }

    public CompletableFuture<Job> heartbeat(String id, String token) {
        return machine.heartbeat(id, token);
    }

    public CompletableFuture<Job> complete(String id, String token, String type, byte[] result) {
        rules.checkResult(type, result);
        return machine.complete(id, token, type, result);
    }

    public CompletableFuture<Job> fail(String id, String token, String error, boolean retry) {
        return machine.fail(id, token, rules.failReason(error), retry);
    }

    public CompletableFuture<Job> cancel(String id) {
        return machine.cancel(id);
    }

    public CompletableFuture<QueueInfo> configure(String queue, QueueSettings newSettings) {
        rules.checkSettings(queue, newSettings);
        return machine.configure(queue, newSettings).thenApply(v -> queue(queue));
    }

    @Override
    public void close() {
        timers.close();
    }
}
