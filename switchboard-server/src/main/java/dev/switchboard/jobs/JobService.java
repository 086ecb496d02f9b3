package dev.switchboard.jobs;

import dev.switchboard.broker.Broker;
import dev.switchboard.broker.Message;
import dev.switchboard.broker.TopicWatcher;
import dev.switchboard.broker.Transaction;
import dev.switchboard.config.Limits;
import dev.switchboard.wire.ApiException;
import dev.switchboard.wire.ErrorCode;
import dev.switchboard.wire.TopicNames;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Jobs: asynchronous requests with handles. Every change of a job is a {@link LogTransaction} that writes the job's
 * record and appends an event (its new public JSON) to the job's topic {@code _jobs.<id>} in one atomic batch, so
 * a job's state and its event history never disagree, and every way of following a topic (poll, long poll, SSE,
 * WebSocket) follows a job too (docs/architecture.md, "One log for everything"). A job's {@code version} is the offset of its latest event.
 *
 * <p>Threads: all state changes run on the log writer thread inside transactions, against writer-only maps; readers
 * see the {@link #get visible} state, replaced after each commit. Claims that find no job wait, woken by a submit or a
 * requeue in the same commit, oldest job first (FIFO per queue).
 */
public final class JobService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(JobService.class);
    public static final int INLINE_RESULT_BYTES = 64 * 1024;
    public static final String STATUS_EVENT_TYPE = "application/vnd.switchboard.job-status+json";
    public static final String PROGRESS_EVENT_TYPE = "application/vnd.switchboard.job-progress+json";
    private static final long EXPIRY_CHECK_MILLIS = 250;
    private static final long SWEEP_MILLIS = 60_000;

    /** A claimed job with its payload, for the worker. */
    public record Claimed(Job job, byte[] payload) {}

    /** A queue's settings and how many of its retained jobs are in each status. */
    public record QueueInfo(String queue, QueueSettings settings, Map<JobStatus, Integer> counts) {}

    private final Broker broker;
    private final JobRules rules;
    private final SecureRandom random = new SecureRandom();
    private final ScheduledExecutorService timers;

    // Writer-thread state.
    private final Map<String, Job> current = new HashMap<>();
    private final Map<String, TreeMap<Long, String>> queued = new HashMap<>();
    private final Map<String, ArrayDeque<ClaimWaiter>> waitingClaims = new HashMap<>();
    private final Map<String, QueueSettings> settings = new HashMap<>();
    private final Map<String, String> idsByKey = new HashMap<>();
    private long nextSeq = 1;

    // What readers see.
    private final ConcurrentHashMap<String, Job> visible = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, QueueSettings> visibleSettings = new ConcurrentHashMap<>();

    public JobService(Broker broker, Limits limits) {
        this.broker = broker;
        this.rules = new JobRules(limits);
        for (Broker.Record r : broker.recordsWithPrefix(JobKeys.QUEUES)) {
            QueueSettings s = JobJson.settingsFromRecord(r.value());
            settings.put(JobKeys.queueOf(r.key()), s);
            visibleSettings.put(JobKeys.queueOf(r.key()), s);
        }
        for (Broker.Record r : broker.recordsWithPrefix(JobKeys.JOBS)) {
            Job j = JobJson.fromRecord(r.value());
            visible.put(j.id(), j);
            nextSeq = Math.max(nextSeq, j.seq() + 1);
        }
        rebuildWriterState();
        timers = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("switchboard-jobs-timer").daemon(true).factory());
        timers.scheduleWithFixedDelay(this::expireLeasesIfDue, EXPIRY_CHECK_MILLIS, EXPIRY_CHECK_MILLIS,
                TimeUnit.MILLISECONDS);
        timers.scheduleWithFixedDelay(this::sweepIfDue, 0, SWEEP_MILLIS, TimeUnit.MILLISECONDS);
        log.info("jobs: {} retained, {} queues configured", visible.size(), settings.size());
    }

    public static String topicOf(String jobId) {
        return JobKeys.topic(jobId);
    }

    // ---- reads ----

    /** The job as readers see it, or null. */
    public Job get(String id) {
        return visible.get(id);
    }

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
        // The job's topic is its change feed: each change's state is visible before its event is (Change#durable),
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
                timer.execute(look);
            }

            @Override
            public void deleted() {
                timer.execute(look);
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

    // ---- changes ----

    public CompletableFuture<Job> submit(String queue, String type, byte[] payload, String key) {
        rules.checkSubmit(queue, type, payload, key);
        return run(new Change<>() {
            @Override
            Job apply(Transaction.Stage s) {
                if (key != null) {
                    String earlier = idsByKey.get(queue + "\u0000" + key);
                    if (earlier != null && current.containsKey(earlier)) {
                        return current.get(earlier);
                    }
                }
                String id = newId();
                Job j = new Job(id, queue, JobStatus.QUEUED, 1, null, null, 1, s.now(), s.now(), type, payload.length,
                        null, 0, null, null, null, 0, 0, nextSeq++, key);
                s.putRecord(JobKeys.payload(id), payload);
                save(s, j, STATUS_EVENT_TYPE);
                assignWaitingClaims(s, queue);
                return current.get(id);
            }
        });
    }

    /**
     * A worker takes the oldest queued job of the queue, or waits up to {@code wait} for one (empty when none came).
     */
    public CompletableFuture<Optional<Claimed>> claim(String queue, Duration wait, Duration lease,
                                                      ScheduledExecutorService timer) {
        rules.checkClaim(queue, wait, lease);
        CompletableFuture<Optional<Claimed>> result = new CompletableFuture<>();
        run(new Change<Void>() {
            @Override
            Void apply(Transaction.Stage s) {
                long leaseMillis = (lease != null ? lease : settingsOf(queue).lease()).toMillis();
                String id = oldestQueued(queue);
                if (id != null) {
                    Claimed c = claimNow(s, id, leaseMillis);
                    afterCommit(() -> result.complete(Optional.of(c)));
                } else if (wait.isZero()) {
                    afterCommit(() -> result.complete(Optional.empty()));
                } else {
                    ClaimWaiter w = new ClaimWaiter(leaseMillis, result);
                    ArrayDeque<ClaimWaiter> waiting = waitingClaims.computeIfAbsent(queue, q -> new ArrayDeque<>());
                    // Claims that timed out or went away are dropped here, so workers polling an idle queue
                    // don't grow this list.
                    waiting.removeIf(held -> held.result.isDone());
                    waiting.add(w);
                    timer.schedule(() -> {
                        if (w.take()) {
                            result.complete(Optional.empty());
                        }
                    }, wait.toNanos(), TimeUnit.NANOSECONDS);
                }
                return null;
            }
        }).whenComplete((v, e) -> {
            if (e != null) {
                result.completeExceptionally(e);
            }
        });
        return result;
    }

    public CompletableFuture<Job> progress(String id, String token, Integer percent, String message) {
        rules.checkProgress(percent, message);
        return run(new Change<>() {
            @Override
            Job apply(Transaction.Stage s) {
                Job j = leased(id, token, s.now());
                return save(s, j.progressed(percent, message, s.now()), PROGRESS_EVENT_TYPE);
            }
        });
    }

    public CompletableFuture<Job> heartbeat(String id, String token) {
        return run(new Change<>() {
            @Override
            Job apply(Transaction.Stage s) {
                Job j = leased(id, token, s.now()).leaseExtended(s.now());
                s.putRecord(JobKeys.job(id), JobJson.record(j));
                current.put(id, j);
                changed.add(j);
                return j;
            }
        });
    }

    public CompletableFuture<Job> complete(String id, String token, String type, byte[] result) {
        rules.checkResult(type, result);
        return run(new Change<>() {
            @Override
            Job apply(Transaction.Stage s) {
                Job j = leased(id, token, s.now());
                s.putRecord(JobKeys.result(id), result);
                byte[] inline = result.length <= INLINE_RESULT_BYTES ? result : null;
                return save(s, j.succeeded(type, result.length, inline, s.now()), STATUS_EVENT_TYPE);
            }
        });
    }

    public CompletableFuture<Job> fail(String id, String token, String error, boolean retry) {
        String reason = rules.failReason(error);
        return run(new Change<>() {
            @Override
            Job apply(Transaction.Stage s) {
                Job j = leased(id, token, s.now());
                return retryOrFail(s, j, reason, retry);
            }
        });
    }

    public CompletableFuture<Job> cancel(String id) {
        return run(new Change<>() {
            @Override
            Job apply(Transaction.Stage s) {
                Job j = current.get(id);
                if (j == null) {
                    throw new ApiException(ErrorCode.JOB_NOT_FOUND, "no job '" + TopicNames.abbreviate(id) + "'");
                }
                if (j.status().isTerminal()) {
                    throw new ApiException(ErrorCode.JOB_FINISHED, "job '" + id + "' already " + j.status().wire());
                }
                return save(s, j.withStatus(JobStatus.CANCELLED, s.now()), STATUS_EVENT_TYPE);
            }
        });
    }

    public CompletableFuture<QueueInfo> configure(String queue, QueueSettings newSettings) {
        rules.checkSettings(queue, newSettings);
        return run(new Change<Void>() {
            @Override
            Void apply(Transaction.Stage s) {
                s.putRecord(JobKeys.queue(queue), JobJson.settingsRecord(newSettings));
                settings.put(queue, newSettings);
                afterCommit(() -> visibleSettings.put(queue, newSettings));
                return null;
            }
        }).thenApply(v -> queue(queue));
    }

    // ---- timers ----

    private void expireLeasesIfDue() {
        long now = System.currentTimeMillis();
        boolean due = visible.values().stream()
                .anyMatch(j -> j.status() == JobStatus.RUNNING && j.leaseExpires() <= now);
        if (due) {
            runQuietly(new Change<Void>() {
                @Override
                Void apply(Transaction.Stage s) {
                    for (Job j : new ArrayList<>(current.values())) {
                        if (j.status() == JobStatus.RUNNING && j.leaseExpires() <= s.now()) {
                            retryOrFail(s, j, "lease expired", true);
                        }
                    }
                    return null;
                }
            });
        }
    }

    private void sweepIfDue() {
        long now = System.currentTimeMillis();
        boolean due = visible.values().stream().anyMatch(j -> expired(j, now));
        if (due) {
            runQuietly(new Change<Void>() {
                @Override
                Void apply(Transaction.Stage s) {
                    for (Job j : new ArrayList<>(current.values())) {
                        if (expired(j, s.now())) {
                            s.deleteRecord(JobKeys.job(j.id()));
                            s.deleteRecord(JobKeys.payload(j.id()));
                            s.deleteRecord(JobKeys.result(j.id()));
                            current.remove(j.id());
                            if (j.idempotencyKey() != null) {
                                idsByKey.remove(j.queue() + "\u0000" + j.idempotencyKey());
                            }
                            s.deleteTopic(JobKeys.topic(j.id()));
                            afterCommit(() -> visible.remove(j.id()));
                        }
                    }
                    return null;
                }
            });
        }
    }

    private boolean expired(Job j, long now) {
        return j.status().isTerminal()
                && j.updated() + visibleSettings.getOrDefault(j.queue(), QueueSettings.DEFAULTS).resultTtl().toMillis()
                <= now;
    }

    // ---- writer-side helpers (run inside transactions) ----

    private Job leased(String id, String token, long now) {
        rules.checkLeaseToken(token);
        Job j = current.get(id);
        if (j == null) {
            throw new ApiException(ErrorCode.JOB_NOT_FOUND, "no job '" + TopicNames.abbreviate(id) + "'");
        }
        if (j.status() != JobStatus.RUNNING || !token.equals(j.leaseToken())) {
            throw new ApiException(ErrorCode.LEASE_LOST, "job '" + id + "' is " + j.status().wire()
                    + (j.status() == JobStatus.RUNNING ? " under another lease" : "")
                    + "; this worker's lease is no longer valid");
        }
        if (j.leaseExpires() <= now) {
            throw new ApiException(ErrorCode.LEASE_EXPIRED, "the lease on job '" + id + "' expired");
        }
        return j;
    }

    private Job retryOrFail(Transaction.Stage s, Job j, String reason, boolean retry) {
        int maxAttempts = settingsOf(j.queue()).maxAttempts();
        if (retry && j.attempt() < maxAttempts) {
            Job again = save(s, j.requeued(reason, s.now()), STATUS_EVENT_TYPE);
            assignWaitingClaims(s, j.queue());
            return current.get(again.id());
        }
        String why = retry ? reason + " (after " + j.attempt() + " of " + maxAttempts + " attempts)" : reason;
        return save(s, j.failed(why, s.now()), STATUS_EVENT_TYPE);
    }

    private Claimed claimNow(Transaction.Stage s, String id, long leaseMillis) {
        byte[] payload = s.record(JobKeys.payload(id));
        if (payload == null) {
            throw new IllegalStateException("payload of job " + id + " is missing");
        }
        Job j = save(s, current.get(id).claimed(newToken(), s.now(), leaseMillis), STATUS_EVENT_TYPE);
        return new Claimed(j, payload);
    }

    private void assignWaitingClaims(Transaction.Stage s, String queue) {
        ArrayDeque<ClaimWaiter> waiting = waitingClaims.get(queue);
        while (waiting != null && !waiting.isEmpty()) {
            String id = oldestQueued(queue);
            if (id == null) {
                return;
            }
            ClaimWaiter w = waiting.poll();
            if (w.take()) {
                Claimed c = claimNow(s, id, w.leaseMillis);
                pendingChange.afterCommit(() -> w.result.complete(Optional.of(c)));
                pendingChange.afterFailure(e -> w.result.completeExceptionally(e));
            }
        }
    }

    private String oldestQueued(String queue) {
        TreeMap<Long, String> q = queued.get(queue);
        return q == null || q.isEmpty() ? null : q.firstEntry().getValue();
    }

    /** Stages the job's record and its event; the event's offset on the job's topic is the job's version. */
    private Job save(Transaction.Stage s, Job j, String eventType) {
        s.putRecord(JobKeys.job(j.id()), JobJson.record(j));
        var event = s.append(JobKeys.topic(j.id()), eventType, JobJson.publicForm(j));
        if (event.offset() != j.version()) {
            log.error("job {} version {} disagrees with its event offset {}", j.id(), j.version(), event.offset());
        }
        Job before = current.put(j.id(), j);
        if (before != null && before.status() == JobStatus.QUEUED && j.status() != JobStatus.QUEUED) {
            TreeMap<Long, String> q = queued.get(j.queue());
            if (q != null) {
                q.remove(j.seq());
            }
        }
        if (j.status() == JobStatus.QUEUED) {
            queued.computeIfAbsent(j.queue(), k -> new TreeMap<>()).put(j.seq(), j.id());
        }
        if (j.idempotencyKey() != null) {
            idsByKey.put(j.queue() + "\u0000" + j.idempotencyKey(), j.id());
        }
        pendingChange.changed.add(j);
        return j;
    }

    private QueueSettings settingsOf(String queue) {
        return settings.getOrDefault(queue, QueueSettings.DEFAULTS);
    }

    /** After a failed commit: the writer's maps go back to what is in the log (what readers see). */
    private void rebuildWriterState() {
        current.clear();
        queued.clear();
        idsByKey.clear();
        current.putAll(visible);
        for (Job j : visible.values()) {
            if (j.status() == JobStatus.QUEUED) {
                queued.computeIfAbsent(j.queue(), k -> new TreeMap<>()).put(j.seq(), j.id());
            }
            if (j.idempotencyKey() != null) {
                idsByKey.put(j.queue() + "\u0000" + j.idempotencyKey(), j.id());
            }
        }
        settings.clear();
        settings.putAll(visibleSettings);
    }

    private String newId() {
        byte[] b = new byte[15];
        random.nextBytes(b);
        return Base32.encode(b);
    }

    private String newToken() {
        byte[] b = new byte[18];
        random.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    // ---- transactions ----

    /** The change being staged, on the writer thread. */
    private Change<?> pendingChange;

    private <T> CompletableFuture<T> run(Change<T> change) {
        broker.submit(change);
        return change.done;
    }

    private void runQuietly(Change<?> change) {
        try {
            broker.submit(change);
        } catch (ApiException e) {
            log.debug("job timer change deferred: {}", e.getMessage());
        }
    }

    /** One job change: staged on the writer thread, made visible after the commit. */
    private abstract class Change<T> implements Transaction {
        final CompletableFuture<T> done = new CompletableFuture<>();
        final List<Job> changed = new ArrayList<>();
        private final List<Runnable> afterCommit = new ArrayList<>();
        private final List<Consumer<ApiException>> afterFailure = new ArrayList<>();
        private T value;

        abstract T apply(Transaction.Stage s);

        void afterCommit(Runnable r) {
            afterCommit.add(r);
        }

        void afterFailure(Consumer<ApiException> r) {
            afterFailure.add(r);
        }

        @Override
        public final void stage(Transaction.Stage s) {
            pendingChange = this;
            try {
                value = apply(s);
            } finally {
                pendingChange = null;
            }
        }

        /** Readers see a job's new state before the event announcing it, so a follower woken by it finds it. */
        @Override
        public final void durable() {
            for (Job j : changed) {
                visible.put(j.id(), j);
            }
        }

        @Override
        public final void committed() {
            afterCommit.forEach(Runnable::run);
            done.complete(value);
        }

        @Override
        public final void failed(ApiException error) {
            if (!changed.isEmpty()) {
                rebuildWriterState();
            }
            afterFailure.forEach(f -> f.accept(error));
            done.completeExceptionally(error);
        }
    }

    /** A held claim. Either the writer hands it a job or its wait ends; {@link #take()} decides which, once. */
    private static final class ClaimWaiter {
        final long leaseMillis;
        final CompletableFuture<Optional<Claimed>> result;
        private final AtomicBoolean taken = new AtomicBoolean();

        ClaimWaiter(long leaseMillis, CompletableFuture<Optional<Claimed>> result) {
            this.leaseMillis = leaseMillis;
            this.result = result;
        }

        boolean take() {
            return !result.isDone() && taken.compareAndSet(false, true);
        }
    }

    @Override
    public void close() {
        timers.shutdownNow();
    }
}
